"""Build hook for the optional native kernels; everything else is in pyproject.toml.

``myelin/_native.c`` is plain C (no Python headers), loaded with ctypes by ``myelin/native.py``.
The extension is optional: without a C compiler the install goes on and every optimizer
runs its NumPy form, with the same results.
"""

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

# The kernels must round exactly as NumPy does: never fuse a multiply and an add
# (-ffp-contract=off); -fno-math-errno only allows the vector square root instruction.
# -pthread: the pool of worker threads behind the split products.
UNIX_FLAGS = ["-O3", "-fno-math-errno", "-ffp-contract=off", "-pthread"]


class BuildNative(build_ext):
    def build_extensions(self):
        if self.compiler.compiler_type == "unix":
            for ext in self.extensions:
                ext.extra_compile_args = [*ext.extra_compile_args, *UNIX_FLAGS]
                ext.extra_link_args = [*ext.extra_link_args, "-pthread"]
        super().build_extensions()


setup(
    ext_modules=[Extension("myelin._native", sources=["myelin/_native.c"], optional=True)],
    cmdclass={"build_ext": BuildNative},
)
