"""What ``docs/api.md`` says about the Keras names myelin lacks or treats differently.

``tools/api_table.py`` reads ``DIFFERS`` (name -> how), ``ABSENT`` (name -> why) and
:func:`absent_reason` (a reason shared by a whole group of names). Keys are the Keras names
in full (``keras.losses.CTC``). A name myelin lacks and nothing here explains makes the
script fail, so every absence in the table has its reason written down.
"""

from __future__ import annotations

NOT_YET = "not yet"
_OTHERS_DATA = "a data utility: another engineer's issue (PyDataset, datasets from directories)"
_OTHERS_LAYERS = "layers are another engineer's issue"
_SYMBOLIC = (
    "Keras's symbolic-tracing internals; myelin's functional models trace with their own "
    "placeholders (myelin.Input) and have no public graph-operation classes"
)
_QUANT = "no quantization (int8/int4/float8 weights) in myelin"
_DIST = "myelin runs in one process on one device; no distribution or sharding API"

ABSENT: dict[str, str] = {
    # keras (top level)
    "keras.Function": _SYMBOLIC,
    "keras.Operation": _SYMBOLIC,
    "keras.SymbolicScope": _SYMBOLIC,
    "keras.StatelessScope": (
        "Keras's stateless (JAX-style) variable scope; myelin's variables are always stateful NumPy arrays"
    ),
    "keras.Quantizer": _QUANT,
    "keras.quantizers": _QUANT,
    "keras.applications": ("pretrained vision models need the convolution layers and downloaded weights; not yet"),
    "keras.distillation": "knowledge-distillation trainers: not yet",
    "keras.export": (
        "Keras's ExportArchive writes TensorFlow SavedModels; myelin exports ONNX instead (Model.export, myelin.onnx)"
    ),
    "keras.legacy": "Keras 2 compatibility shims (keras.legacy.saving ...) are not carried",
    "keras.visualization": ("bounding-box and segmentation-mask drawing for vision data sets; myelin.plot has its own plots"),
    "keras.src": "Keras's private source tree",
    # keras.optimizers
    "keras.optimizers.legacy": "Keras 2 optimizers: not carried (Keras 3 raises on use as well)",
    # keras.callbacks
    "keras.callbacks.OrbaxCheckpoint": "JAX Orbax checkpoints; myelin has BackupAndRestore and ModelCheckpoint",
    # keras.losses
    # keras.utils
    "keras.utils.FeatureSpace": "a preprocessing layer: " + _OTHERS_LAYERS,
    "keras.utils.legacy": "Keras 2 compatibility shims are not carried",
    "keras.utils.model_to_dot": ("needs pydot and Graphviz; myelin.plot.architecture draws the model with matplotlib"),
    # keras.initializers
}

DIFFERS: dict[str, str] = {
    "keras.backend": (
        "myelin.backend holds floatx/set_floatx, the array module (NumPy or CuPy), seeds and "
        "BLAS threads; Keras's backend-selection functions (backend(), image_data_format) are absent"
    ),
    "keras.config": ("myelin.config: floatx, set_floatx, num_threads, set_num_threads, dtype_policy, set_dtype_policy only"),
    "keras.layers": "see the layer documentation; " + _OTHERS_LAYERS,
    "keras.ops": "see docs/ops.md",
    "keras.wrappers": "SKLearnClassifier and SKLearnRegressor; SKLearnTransformer not yet",
    "keras.datasets.mnist": "load_data(path) reads a local copy first and downloads only when a network is there",
    "keras.datasets.cifar10": (
        "reads the binary version (cifar-10-binary.tar.gz, no pickle), not Keras's pickle-based python batches; "
        "load_data also takes path= (docs/datasets.md)"
    ),
    "keras.datasets.cifar100": (
        "reads the binary version (cifar-100-binary.tar.gz, no pickle), not Keras's pickle-based python batches; "
        "load_data also takes path= (docs/datasets.md)"
    ),
    "keras.datasets.fashion_mnist": "load_data also takes path=; downloads are checked against Zalando's SHA-256",
    "keras.datasets.imdb": "load_data takes no `**kwargs` (Keras takes and ignores them); the arguments are checked",
    "keras.datasets.reuters": "load_data refuses a test_split outside [0, 1] (Keras computes a meaningless split)",
}


def absent_reason(namespace: str, name: str) -> str | None:
    """The reason shared by a group of absent names, or None when there is none."""
    return NOT_YET


_OWN_FORMAT = "reads/writes myelin's own file (safetensors + JSON, docs/saving.md), not Keras's .keras zip or .h5"
DIFFERS.update(
    {
        "keras.saving.save_model": _OWN_FORMAT,
        "keras.saving.load_model": _OWN_FORMAT,
        "keras.saving.save_weights": _OWN_FORMAT,
        "keras.saving.load_weights": _OWN_FORMAT,
        "keras.models.load_model": _OWN_FORMAT,
        "keras.callbacks.TensorBoard": "writes event files through tensorboardX (optional dependency); no profiler",
    }
)
DIFFERS["keras.dtype_policies"] = (
    "DTypePolicy, FloatDTypePolicy, get, serialize, deserialize; no quantized policies (no quantization in myelin); "
    "docs/mixed_precision.md"
)
DIFFERS["keras.activations.sparsemax"] = (
    "the true projection onto the simplex (sums to 1, shift invariant); Keras 3.15's torch backend "
    "returns values that sum above 1 for inputs below 0"
)

# Not written yet, each with what it would take.
ABSENT.update(
    {
        "keras.saving.KerasFileEditor": "not yet: it edits Keras's .keras files; myelin writes its own format",
    }
)
DIFFERS["keras.Variable"] = (
    "myelin.Variable(data, requires_grad, dtype, name) is a Tensor holding a weight (assign, value, "
    "constraint); Keras's initializer/shape/trainable constructor is not taken: use Layer.add_weight"
)
DIFFERS["keras.distribution"] = (
    "data parallelism over MPI processes (DataParallel, DeviceMesh, initialize, list_devices ...; "
    "docs/distributed.md); no model parallelism (ModelParallel, LayoutMap)"
)

# Issue 17, the rest: names added with a difference worth knowing.
DIFFERS.update(
    {
        "keras.KerasTensor": (
            "the placeholder class that myelin.Input and layers on it return (myelin's SymbolicTensor: shape, dtype, "
            "name, its layer and inputs); not built directly, no sparse/ragged flags"
        ),
        "keras.name_scope": (
            "weights created inside get the scope path in their names (block/dense/kernel), as Keras's paths; "
            "a layer inside another layer does not add the outer layer's name (myelin names it dense/kernel)"
        ),
        "keras.device": (
            "'cpu' (NumPy, as always) or 'gpu'/'cuda'[:k]: the tensors created inside are CuPy arrays on that GPU; "
            "without CuPy or a GPU, entering it raises RuntimeError"
        ),
        "keras.utils.plot_model": (
            "drawn with matplotlib (myelin.plot.model's block diagram), not Graphviz; returns the Figure; "
            "rankdir other than 'TB', expand_nested=True and splines other than 'ortho'/'line' are refused; "
            "show_shapes shows output shapes and parameter counts"
        ),
        "keras.remat": (
            "the function must return one tensor (Keras takes any structure); a function that updates state "
            "(BatchNormalization's moving statistics) updates it again when recomputed, as PyTorch's checkpoint"
        ),
        "keras.utils.audio_dataset_from_directory": (
            "PCM .wav through Python's wave module (8-32 bit); sampling_rate must match the files (no resampling, "
            "which Keras does through tensorflow-io); ragged=True refused (no ragged tensors)"
        ),
        "keras.utils.bounding_boxes": (
            "NumPy arrays in and out (Keras gives backend tensors); compute_ciou also takes a relative format "
            "with image_shape (Keras refuses relative formats there whatever is given)"
        ),
        "keras.initializers.STFT": (
            "windows hann, hamming, blackman, bartlett, boxcar computed by myelin; other names need SciPy (as in "
            "Keras); the kernel is broadcast to the requested input_channels"
        ),
        "keras.optimizers.MultiOptimizer": (
            "variables are matched by myelin's weight names (Keras's paths); a saved model keeps the inner "
            "optimizers' state but not learning rates changed during training"
        ),
    }
)
