"""Keras's dataset utilities: windows of a time series, images and texts from folders, splits.

``timeseries_dataset_from_array``, ``image_dataset_from_directory`` (needs Pillow: the
``images`` extra), ``text_dataset_from_directory`` and ``split_dataset`` take Keras's
arguments and return a :class:`Dataset`: a ``PyDataset`` of batches that ``fit``,
``evaluate`` and ``predict`` read (its ``workers`` may prepare them ahead) and a plain
``for`` loop iterates, batch by batch. Images and texts are read from disk batch by batch,
never all at once. A dataset made with ``shuffle=True`` visits its samples in a new order
each epoch (each pass of a ``for`` loop), drawn from its ``seed``: the same seed gives the
same orders. ``fit(shuffle=...)`` does not reorder it (as Keras's ``fit`` leaves a
``tf.data.Dataset``'s order alone).

Example:
    >>> import numpy as np
    >>> ds = timeseries_dataset_from_array(np.arange(10), None, sequence_length=3, batch_size=4)
    >>> [b.tolist() for b in ds][0]
    [[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5]]
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable

import numpy as np

from .trainers.data_adapters.py_dataset_adapter import PyDataset

IMAGE_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")


class Dataset(PyDataset):
    """Samples ``0 .. n-1`` made by ``make(indices)`` (one array or a tuple of them), cut into batches.

    ``batch_size=None`` yields one sample at a time (no batch axis), as an unbatched
    ``tf.data.Dataset`` does; ``batch(n)`` gives the same samples in batches of ``n``.
    ``shuffle=True`` draws a new order of the samples at the end of every epoch of ``fit``
    and of every full pass of a ``for`` loop, from ``seed``.

    Example:
        >>> import numpy as np
        >>> x = np.arange(5)
        >>> ds = Dataset(lambda i: (x[i], x[i] * 10), 5, batch_size=2)
        >>> [(a.tolist(), b.tolist()) for a, b in ds]
        [([0, 1], [0, 10]), ([2, 3], [20, 30]), ([4], [40])]
        >>> len(ds), len(ds.batch(None)), [int(v) for v in ds.batch(None)[3]]
        (3, 5, [3, 30])
    """

    _keeps_order = True  # fit(shuffle=True) does not reorder its batches: it shuffles itself

    def __init__(
        self,
        make: Callable,
        num_samples: int,
        batch_size: int | None = 32,
        shuffle: bool = False,
        seed: int | None = None,
        order=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1):
            raise ValueError(f"batch_size must be a positive integer or None, got {batch_size!r}")
        self._make, self.num_samples, self.batch_size = make, int(num_samples), batch_size
        self.shuffle, self.seed = bool(shuffle), seed
        self._rng = np.random.default_rng(seed)
        self._order = np.arange(self.num_samples) if order is None else np.asarray(order)

    def __len__(self) -> int:
        if self.batch_size is None:
            return self.num_samples
        return -(-self.num_samples // self.batch_size)

    def __getitem__(self, index: int):
        n = len(self)
        if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)) or not -n <= index < n:
            raise IndexError(f"{type(self).__name__}: batch index {index!r} is out of range for {n} batches")
        index = int(index) % n
        if self.batch_size is None:
            out = self._make(self._order[index : index + 1])
            if isinstance(out, dict):
                return {k: v[0] for k, v in out.items()}
            return tuple(a[0] for a in out) if isinstance(out, tuple) else out[0]
        return self._make(self._order[index * self.batch_size : (index + 1) * self.batch_size])

    def __iter__(self):
        for index in range(len(self)):
            yield self[index]
        self.on_epoch_end()

    def on_epoch_end(self) -> None:
        if self.shuffle:
            self._order = self._rng.permutation(self._order)

    def batch(self, batch_size: int | None) -> Dataset:
        """The same samples (in the same order) in batches of ``batch_size`` (None: one sample at a time).

        Example:
            >>> import numpy as np
            >>> x = np.arange(4)
            >>> [b.tolist() for b in Dataset(lambda i: x[i], 4, batch_size=None).batch(3)]
            [[0, 1, 2], [3]]
        """
        return self._like(self._order, batch_size)

    def _like(self, order, batch_size) -> Dataset:
        out = Dataset(
            self._make,
            len(order),
            batch_size,
            self.shuffle,
            self.seed,
            order=order,
            workers=self._workers,
            use_multiprocessing=self._use_multiprocessing,
            max_queue_size=self._max_queue_size,
        )
        if hasattr(self, "class_names"):
            out.class_names = self.class_names
        if hasattr(self, "_paths_by_id"):
            out._paths_by_id = self._paths_by_id
            out.file_paths = [self._paths_by_id[i] for i in order]
        return out


def _check_int(value, name: str, low: int = 1, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}{' or None' if allow_none else ''}, got {value!r}")


def timeseries_dataset_from_array(
    data,
    targets,
    sequence_length: int,
    sequence_stride: int = 1,
    sampling_rate: int = 1,
    batch_size: int | None = 128,
    shuffle: bool = False,
    seed: int | None = None,
    start_index: int | None = None,
    end_index: int | None = None,
    format: str = "tf",  # noqa: A002  (Keras's name)
) -> Dataset:
    """Windows of ``sequence_length`` steps of ``data`` (every ``sampling_rate``-th step), with ``targets[start]``.

    Window ``i`` starts at step ``start_index + i * sequence_stride`` (shuffled with
    ``shuffle``, as Keras does, by ``np.random.RandomState(seed)``); its target is
    ``targets`` at that start step (``targets=None``: windows only). ``end_index`` (excluded)
    bounds the steps used. Batches are ``(windows, targets)`` of shape
    ``(batch, sequence_length, *data.shape[1:])``.

    Example:
        >>> import numpy as np
        >>> steps = np.arange(10)
        >>> ds = timeseries_dataset_from_array(steps, steps[3:], sequence_length=3, batch_size=2)
        >>> x, y = ds[0]
        >>> x.tolist(), y.tolist()
        ([[0, 1, 2], [1, 2, 3]], [3, 4])
    """
    data = np.asarray(data)
    if data.ndim == 0:
        raise ValueError("timeseries_dataset_from_array: data must be an array of time steps (axis 0), got a scalar")
    n = len(data)
    if format not in ("tf", "grain"):
        raise ValueError(f'timeseries_dataset_from_array: format must be "tf" or "grain", got {format!r}')
    _check_int(sequence_length, "sequence_length")
    for name, value in (("sequence_stride", sequence_stride), ("sampling_rate", sampling_rate)):
        _check_int(value, name)
        if value >= n:
            raise ValueError(f"{name} must be lower than the length of the data ({n}), got {name}={value}")
    _check_int(batch_size, "batch_size", allow_none=True)
    if start_index and (start_index < 0 or start_index >= n):
        raise ValueError(f"start_index must be in [0, {n}) (the length of the data), got {start_index}")
    if end_index:
        if end_index <= 0 or end_index >= n:
            raise ValueError(f"end_index must be in (0, {n}) (the length of the data), got {end_index}")
        if start_index and end_index <= start_index:
            raise ValueError(
                f"end_index must be higher than start_index, got start_index={start_index}, end_index={end_index}"
            )
    start = start_index or 0
    end = end_index or n
    num_seqs = end - start - (sequence_length - 1) * sampling_rate
    if targets is not None:
        targets = np.asarray(targets)
        num_seqs = min(num_seqs, len(targets) - start)
    if num_seqs <= 0:
        raise ValueError(
            f"timeseries_dataset_from_array: no window of {sequence_length} steps (sampling_rate={sampling_rate}) fits "
            f"in steps {start} to {end - 1}"
        )
    positions = np.arange(0, num_seqs, sequence_stride, dtype=np.int64)
    if shuffle:
        np.random.RandomState(seed).shuffle(positions)
    offsets = np.arange(sequence_length, dtype=np.int64) * sampling_rate

    def make(order):
        first = start + positions[order]
        windows = data[first[:, None] + offsets]
        return windows if targets is None else (windows, targets[first])

    return Dataset(make, len(positions), batch_size, shuffle, seed)


def _index_directory(directory, labels, formats, class_names, shuffle, seed, follow_links, verbose, what):
    """(file paths, labels or None, class names) of the files under ``directory``, Keras's order and shuffle."""
    if not os.path.isdir(directory):
        raise ValueError(f"{what}: directory {directory!r} does not exist or is not a folder")
    if labels == "inferred":
        subdirs = sorted(
            d for d in os.listdir(directory) if os.path.isdir(os.path.join(directory, d)) and not d.startswith(".")
        )
        if class_names is not None:
            if not set(class_names) <= set(subdirs):
                raise ValueError(f"{what}: class_names {list(class_names)} must be sub-folders of {directory!r}: {subdirs}")
            subdirs = list(class_names)
    else:
        if class_names is not None:
            raise ValueError(f"{what}: class_names needs labels='inferred' (the sub-folders); got labels={labels!r}")
        subdirs = [""]
    paths, found = [], []
    for k, sub in enumerate(subdirs):
        root_dir = os.path.join(directory, sub)
        walk = sorted(os.walk(root_dir, followlinks=follow_links), key=lambda w: w[0])
        for root, _, files in walk:
            for name in sorted(files):
                if name.lower().endswith(formats):
                    paths.append(os.path.join(root, name))
                    found.append(k)
    if labels == "inferred":
        label_array = np.asarray(found, dtype=np.int32)
        names = list(subdirs)
    elif labels is None:
        label_array, names = None, None
    else:
        label_array = np.asarray(labels)
        if len(label_array) != len(paths):
            raise ValueError(f"{what}: labels has {len(label_array)} values, but {directory!r} holds {len(paths)} files")
        names = [str(v) for v in sorted(set(label_array.tolist()))]
    if verbose:
        print(f"Found {len(paths)} files" + ("." if names is None else f" belonging to {len(names)} classes."))
    if shuffle:
        seed = np.random.randint(1e6) if seed is None else seed
        order = np.arange(len(paths))
        np.random.RandomState(seed).shuffle(order)
        paths = [paths[i] for i in order]
        label_array = None if label_array is None else label_array[order]
    return paths, label_array, names, seed


def _check_split(validation_split, subset, shuffle, seed, what: str) -> None:
    if validation_split is not None and not 0 < validation_split < 1:
        raise ValueError(f"{what}: validation_split must be between 0 and 1, got {validation_split!r}")
    if subset not in (None, "training", "validation", "both"):
        raise ValueError(f"{what}: subset must be 'training', 'validation', 'both' or None, got {subset!r}")
    if (validation_split is None) != (subset is None):
        raise ValueError(f"{what}: validation_split and subset go together: give both or neither")
    if validation_split and shuffle and seed is None:
        raise ValueError(f"{what}: with validation_split and shuffle=True, give a seed (both subsets must agree on the order)")


def _labels_out(labels, label_mode: str | None, num_classes: int, what: str):
    if label_mode == "int":
        return labels.astype(np.int32)
    if label_mode == "categorical":
        return np.eye(num_classes, dtype=np.float32)[labels]
    if label_mode == "binary":
        return labels.astype(np.float32).reshape(-1, 1)
    raise ValueError(f"{what}: label_mode must be 'int', 'categorical', 'binary' or None, got {label_mode!r}")


def _from_files(paths, labels, names, label_mode, batch_size, shuffle, seed, validation_split, subset, load, what, verbose):
    """The dataset(s) of ``paths`` (loaded by ``load(paths)``), split as Keras splits them."""
    if labels is None or label_mode is None:
        label_mode = None
    elif label_mode == "binary" and len(names) != 2:
        raise ValueError(f"{what}: label_mode='binary' needs exactly 2 classes, found {len(names)}: {names}")
    elif label_mode not in ("int", "categorical", "binary"):
        _labels_out(labels, label_mode, 0, what)
    if not paths:
        raise ValueError(f"{what}: no files found (formats: the file names must end in one of the allowed extensions)")

    def build(part_paths, part_labels):
        def make(order):
            x = load([part_paths[i] for i in order])
            return x if label_mode is None else (x, _labels_out(part_labels[order], label_mode, len(names), what))

        ds = Dataset(make, len(part_paths), batch_size, shuffle, seed)
        ds.class_names, ds.file_paths, ds._paths_by_id = names, list(part_paths), list(part_paths)
        return ds

    if validation_split is None:
        return build(paths, labels)
    cut = len(paths) - int(validation_split * len(paths))
    parts = {"training": (paths[:cut], None if labels is None else labels[:cut])}
    parts["validation"] = (paths[cut:], None if labels is None else labels[cut:])
    wanted = ["training", "validation"] if subset == "both" else [subset]
    out = []
    for key in wanted:
        if verbose:
            print(f"Using {len(parts[key][0])} files for {key}.")
        out.append(build(*parts[key]))
    return tuple(out) if subset == "both" else out[0]


_RESAMPLING = {"bilinear": "BILINEAR", "nearest": "NEAREST", "bicubic": "BICUBIC", "area": "BOX", "lanczos3": "LANCZOS"}


def image_dataset_from_directory(
    directory: str,
    labels="inferred",
    label_mode: str | None = "int",
    class_names=None,
    color_mode: str = "rgb",
    batch_size: int | None = 32,
    image_size: tuple[int, int] = (256, 256),
    shuffle: bool = True,
    seed: int | None = None,
    validation_split: float | None = None,
    subset: str | None = None,
    interpolation: str = "bilinear",
    follow_links: bool = False,
    crop_to_aspect_ratio: bool = False,
    pad_to_aspect_ratio: bool = False,
    data_format: str | None = None,
    format: str = "tf",  # noqa: A002  (Keras's name)
    verbose: bool = True,
):
    """Images from ``directory`` (one sub-folder per class with ``labels="inferred"``) as a dataset of batches.

    Batches are ``(images, labels)``: float32 images of ``image_size`` (height, width) with 1,
    3 or 4 channels (``color_mode`` "grayscale", "rgb", "rgba"; values 0 to 255), read and
    resized with Pillow batch by batch; labels as ``label_mode`` says ("int", "categorical"
    one-hot, "binary" for two classes, None: images only). ``class_names`` (the folders, in
    order) and ``file_paths`` are attributes of the result. ``validation_split`` with
    ``subset`` "training", "validation" or "both" splits off the last fraction of the
    (shuffled) files, as Keras does. Interpolations: bilinear, nearest, bicubic, area,
    lanczos3 (Pillow's; Keras's gaussian, lanczos5 and mitchellcubic are refused).

    Example:
        >>> import os, tempfile, numpy as np
        >>> from PIL import Image
        >>> root = tempfile.mkdtemp()
        >>> for k, cls in enumerate(["cat", "dog"]):
        ...     os.makedirs(os.path.join(root, cls))
        ...     Image.fromarray(np.full((8, 8, 3), 100 * k, np.uint8)).save(os.path.join(root, cls, "a.png"))
        >>> ds = image_dataset_from_directory(root, image_size=(4, 4), shuffle=False, verbose=False)
        >>> x, y = ds[0]
        >>> x.shape, y.tolist(), ds.class_names
        ((2, 4, 4, 3), [0, 1], ['cat', 'dog'])
    """
    what = "image_dataset_from_directory"
    try:
        from PIL import Image  # noqa: PLC0415  (Pillow is optional: the images extra)
    except ImportError:
        raise ImportError(f"{what} reads images with Pillow: pip install 'myelin[images]' (or pillow)") from None
    channels = {"grayscale": 1, "rgb": 3, "rgba": 4}
    if color_mode not in channels:
        raise ValueError(f"{what}: color_mode must be 'grayscale', 'rgb' or 'rgba', got {color_mode!r}")
    if interpolation not in _RESAMPLING:
        raise ValueError(f"{what}: interpolation must be one of {sorted(_RESAMPLING)} (Pillow's), got {interpolation!r}")
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError(f"{what}: crop_to_aspect_ratio and pad_to_aspect_ratio cannot both be True")
    if data_format not in (None, "channels_last", "channels_first"):
        raise ValueError(f"{what}: data_format must be 'channels_last' or 'channels_first', got {data_format!r}")
    if format != "tf":
        raise ValueError(f'{what}: format must be "tf" (a dataset of NumPy batches here), got {format!r}')
    if not (isinstance(image_size, (tuple, list)) and len(image_size) == 2 and all(int(s) > 0 for s in image_size)):
        raise ValueError(f"{what}: image_size must be (height, width), got {image_size!r}")
    _check_int(batch_size, "batch_size", allow_none=True)
    _check_split(validation_split, subset, shuffle, seed, what)
    height, width = int(image_size[0]), int(image_size[1])
    mode = {"grayscale": "L", "rgb": "RGB", "rgba": "RGBA"}[color_mode]
    resample = getattr(Image.Resampling, _RESAMPLING[interpolation])
    paths, labels, names, seed = _index_directory(
        directory, labels, IMAGE_FORMATS, class_names, shuffle, seed, follow_links, verbose, what
    )

    def load_one(path):
        with Image.open(path) as img:
            img = img.convert(mode)
            w, h = img.size
            if crop_to_aspect_ratio:
                cw, ch = min(w, round(h * width / height)), min(h, round(w * height / width))
                left, top = (w - cw) // 2, (h - ch) // 2
                img = img.crop((left, top, left + cw, top + ch))
            elif pad_to_aspect_ratio:
                pw, ph = max(w, round(h * width / height)), max(h, round(w * height / width))
                canvas = Image.new(mode, (pw, ph))
                canvas.paste(img, ((pw - w) // 2, (ph - h) // 2))
                img = canvas
            arr = np.asarray(img.resize((width, height), resample), dtype=np.float32)
        return arr.reshape(height, width, channels[color_mode])

    def load(batch_paths):
        x = np.stack([load_one(p) for p in batch_paths])
        return x.transpose(0, 3, 1, 2) if data_format == "channels_first" else x

    return _from_files(
        paths, labels, names, label_mode, batch_size, shuffle, seed, validation_split, subset, load, what, verbose
    )


def text_dataset_from_directory(
    directory: str,
    labels="inferred",
    label_mode: str | None = "int",
    class_names=None,
    batch_size: int | None = 32,
    max_length: int | None = None,
    shuffle: bool = True,
    seed: int | None = None,
    validation_split: float | None = None,
    subset: str | None = None,
    follow_links: bool = False,
    format: str = "tf",  # noqa: A002  (Keras's name)
    verbose: bool = True,
):
    """The ``.txt`` files under ``directory`` (one sub-folder per class) as a dataset of ``(texts, labels)`` batches.

    Texts are Python strings (an object array; read as UTF-8 batch by batch), cut to their
    first ``max_length`` characters when given; labels and splits as in
    :func:`image_dataset_from_directory`.

    Example:
        >>> import os, tempfile
        >>> root = tempfile.mkdtemp()
        >>> for cls, text in [("neg", "bad"), ("pos", "good")]:
        ...     os.makedirs(os.path.join(root, cls))
        ...     with open(os.path.join(root, cls, "1.txt"), "w") as f:
        ...         _ = f.write(text)
        >>> x, y = text_dataset_from_directory(root, shuffle=False, verbose=False)[0]
        >>> x.tolist(), y.tolist()
        (['bad', 'good'], [0, 1])
    """
    what = "text_dataset_from_directory"
    if format != "tf":
        raise ValueError(f'{what}: format must be "tf" (a dataset of NumPy batches here), got {format!r}')
    _check_int(batch_size, "batch_size", allow_none=True)
    _check_int(max_length, "max_length", allow_none=True)
    _check_split(validation_split, subset, shuffle, seed, what)
    paths, labels, names, seed = _index_directory(
        directory, labels, (".txt",), class_names, shuffle, seed, follow_links, verbose, what
    )

    def read(path):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        return text if max_length is None else text[:max_length]

    def load(batch_paths):
        out = np.empty(len(batch_paths), dtype=object)
        out[:] = [read(p) for p in batch_paths]
        return out

    return _from_files(
        paths, labels, names, label_mode, batch_size, shuffle, seed, validation_split, subset, load, what, verbose
    )


def _split_sizes(left_size, right_size, total: int) -> tuple[int, int]:
    """Keras's rules for ``split_dataset``'s sizes: a fraction in (0, 1) or a count in (0, total)."""
    for name, size in (("left_size", left_size), ("right_size", right_size)):
        if size is None:
            continue
        if isinstance(size, bool) or not isinstance(size, (int, float)):
            raise TypeError(f"split_dataset: {name} must be an int, a float or None, got {type(size).__name__}")
        if (isinstance(size, int) and not 0 < size < total) or (isinstance(size, float) and not 0 < size < 1):
            raise ValueError(
                f"split_dataset: {name} must be a positive integer smaller than {total} or a float in (0, 1), got {size!r}"
            )
    if left_size is None and right_size is None:
        raise ValueError("split_dataset: give left_size or right_size (or both)")
    if isinstance(left_size, float) and isinstance(right_size, float) and left_size + right_size > 1:
        raise ValueError(f"split_dataset: left_size + right_size is {left_size + right_size}, more than 1")
    left = None if left_size is None else round(left_size * total) if isinstance(left_size, float) else left_size
    right = None if right_size is None else round(right_size * total) if isinstance(right_size, float) else right_size
    left = total - right if left is None else left
    right = total - left if right is None else right
    if left + right > total:
        raise ValueError(f"split_dataset: left_size + right_size = {left + right} samples, more than the {total} there are")
    if left == 0 or right == 0:
        raise ValueError(f"split_dataset: with {total} samples, the {'left' if left == 0 else 'right'} side would be empty")
    return int(left), int(right)


def split_dataset(
    dataset, left_size=None, right_size=None, shuffle: bool = False, seed: int | None = None, preferred_backend=None
):
    """Split a dataset (an array, a tuple/list of arrays of one length, a dict of them, or a :class:`Dataset`) in two.

    Sizes are fractions in (0, 1) or sample counts (one may be None: the rest). The left
    side takes the first samples, the right side the last (after ``shuffle``, which draws
    the order as Keras does, from Python's ``random`` seeded with ``seed``). Arrays give two
    unbatched datasets (one sample per item; ``.batch(n)`` batches them); a batched
    ``Dataset`` gives two with its batch size.

    Example:
        >>> import numpy as np
        >>> left, right = split_dataset((np.arange(10), np.arange(10) * 2), left_size=0.8)
        >>> len(left), len(right), [int(v) for v in right[0]]
        (8, 2, [8, 16])
        >>> [x.tolist() for x, _ in right.batch(2)]
        [[8, 9]]
    """
    if preferred_backend not in (None, "numpy"):
        raise ValueError(f"split_dataset: preferred_backend must be None (NumPy batches here), got {preferred_backend!r}")
    if isinstance(dataset, Dataset):
        total, order, batch_size = dataset.num_samples, dataset._order, dataset.batch_size
        source = dataset
    else:
        if isinstance(dataset, dict):
            keys = list(dataset)
            arrays = [np.asarray(dataset[k]) for k in keys]
        else:
            many = isinstance(dataset, (tuple, list)) and dataset and all(isinstance(a, np.ndarray) for a in dataset)
            arrays = [np.asarray(a) for a in dataset] if many else [np.asarray(dataset)]
            keys = None
        lengths = {len(a) for a in arrays}
        if len(lengths) != 1:
            raise ValueError(f"split_dataset: the arrays have different lengths {[len(a) for a in arrays]}")
        total, order, batch_size = lengths.pop(), np.arange(len(arrays[0])), None

        def make(indices):
            parts = [a[indices] for a in arrays]
            if keys is not None:
                return dict(zip(keys, parts))
            return parts[0] if len(parts) == 1 else tuple(parts)

        source = Dataset(make, total, None)
    order = list(np.asarray(order).tolist())
    if shuffle:
        random.Random(random.randint(0, int(1e6)) if seed is None else seed).shuffle(order)  # noqa: S311
    left, right = _split_sizes(left_size, right_size, total)
    return source._like(np.asarray(order[:left], dtype=np.int64), batch_size), source._like(
        np.asarray(order[total - right :], dtype=np.int64), batch_size
    )
