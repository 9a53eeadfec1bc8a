"""myelin's benchmark suite: myelin next to PyTorch, JAX, Keras, scikit-learn and NumPy.

Run ``python -m bench --help`` from the repository root; ``bench/README.md`` says what each
workload measures. This package is not part of the installed library.
"""
