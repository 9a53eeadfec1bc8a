"""What ``docs/ops.md`` says about the ``keras.ops`` names myelin lacks or treats differently.

``tools/ops_table.py`` reads these two tables; a test checks that every Keras name is either
in ``myelin.ops`` or listed in ``ABSENT``.
"""

_CONV = "arrives with the convolution layers (issue 15)"
_COMPLEX = "myelin's tensors are real; complex results have no representation"
_IMAGE = "not written yet (`ops.image` has `resize` and `affine_transform`, which the image preprocessing layers use)"

ABSENT = {
    "adaptive_average_pool": _CONV,
    "adaptive_max_pool": _CONV,
    "fold": _CONV,
    "unfold": _CONV,
    "extract_sequences": _CONV,
    "fft": _COMPLEX,
    "fft2": _COMPLEX,
    "ifft2": _COMPLEX,
    "rfft": _COMPLEX,
    "irfft": _COMPLEX,
    "stft": _COMPLEX,
    "istft": _COMPLEX,
    "view_as_complex": _COMPLEX,
    "view_as_real": _COMPLEX,
    "polar": _COMPLEX,
    "jvp": "myelin's autodiff is reverse mode only; a forward-mode product would have to be emulated",
    "erfinv": "not written yet (needs an accurate inverse-erf kernel in NumPy)",
    "segment_min": "not written yet (segment_sum and segment_max are)",
    "segment_prod": "not written yet (segment_sum and segment_max are)",
    "rearrange": "not written yet (einops-style patterns)",
}
_IMAGE_NAMES = (
    "crop_images elastic_transform extract_patches extract_patches_3d gaussian_blur hsv_to_rgb "
    "map_coordinates pad_images perspective_transform rgb_to_grayscale rgb_to_hsv scale_and_translate "
    "sobel_edges ssim"
)
for _name in _IMAGE_NAMES.split():
    ABSENT[f"image.{_name}"] = _IMAGE

DIFFERS = {
    "dot_product_attention": "flash_attention=True is refused; key/value need as many heads as the query",
    "eig": "no gradient (an input that requires one is refused); complex spectra are refused",
    "eigh": "no gradient (an input that requires one is refused)",
    "svd": "no gradient (an input that requires one is refused)",
    "lu_factor": "no gradient; one matrix at a time (no batch)",
    "qr": "gradient only for mode='reduced' with m >= n (others refuse an input that requires a gradient)",
    "norm": "matrix ord 2, -2 and 'nuc' have no gradient (they go through svd)",
    "i0": "no gradient",
    "unique": "eager only (the output size is data-dependent, as in Keras's eager backends); no gradient",
    "vectorize": "NumPy's vectorize on host values; no gradient",
    "nanquantile": "axis=None or 1-D input only",
    "nanpercentile": "axis=None or 1-D input only",
    "nanmedian": "axis=None or 1-D input only",
    "cond": "eager: only the branch taken runs (as Keras's eager backends)",
    "while_loop": "eager Python loop (as Keras's torch backend)",
    "fori_loop": "eager Python loop (as Keras's torch backend)",
    "scan": "eager Python loop; unroll is accepted and has no effect on the result",
    "vectorized_map": "a Python loop over the first axis (same results, not vectorised)",
    "map": "a Python loop over the first axis",
    "associative_scan": "sequential (same result for an associative f); a single tensor only",
    "custom_gradient": "the JAX/TensorFlow form: grad_fn(upstream) returns one gradient per tensor argument",
    "segment_max": "a Python loop over segments",
    "isin": "computed on the host",
    "argpartition": "computed on the host",
    "bincount": "1-D input only; sparse=True refused",
    "floor": "no gradient (piecewise constant)",
    "ceil": "no gradient (piecewise constant)",
    "round": "no gradient (piecewise constant)",
    "trunc": "no gradient (piecewise constant)",
    "sign": "no gradient (piecewise constant)",
    "floor_divide": "no gradient (piecewise constant)",
    "scatter_update": "reduction='max', 'min' and 'mul' have no gradient (an input that requires one is refused)",
    "pinv": "differentiable only through the normal equations (full-rank input); rcond is refused there",
    "image.resize": "PyTorch's interpolation rules (Keras's PyTorch backend); lanczos3/lanczos5 refused, as there",
    "image.affine_transform": "differentiable in the images only (not in the transform)",
    "ctc_decode": (
        "computed on the host, no gradient; beam search pads with -1 rows scored -inf where fewer than "
        "top_paths sequences are possible (Keras lists arbitrary ones there)"
    ),
}
