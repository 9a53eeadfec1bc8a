"""Level 6: Keras's ``audio_dataset_from_directory``: the .wav files of a folder as a dataset of batches.

The files are read with Python's ``wave`` module (PCM, 8 to 32 bits) into float32 in [-1, 1)
as TensorFlow's ``decode_wav`` gives them (16-bit samples / 32768), shape (samples, channels);
folders, labels, shuffling and splits as in :func:`myelin.utils.image_dataset_from_directory`.

Example:
    >>> import os, tempfile, wave
    >>> import numpy as np
    >>> root = tempfile.mkdtemp()
    >>> for cls, n in [("no", 3), ("yes", 5)]:
    ...     os.makedirs(os.path.join(root, cls))
    ...     with wave.open(os.path.join(root, cls, "a.wav"), "wb") as w:
    ...         w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
    ...         w.writeframes(np.full(n, 16384, "<i2").tobytes())
    >>> x, y = audio_dataset_from_directory(root, shuffle=False, verbose=False)[0]
    >>> x.shape, x[0, :, 0].tolist(), y.tolist()
    ((2, 5, 1), [0.5, 0.5, 0.5, 0.0, 0.0], [0, 1])
"""

from __future__ import annotations

import wave

import numpy as np

from .dataset_utils import _check_int, _check_split, _from_files, _index_directory

_WHAT = "audio_dataset_from_directory"


def read_wav(path, desired_samples: int | None = None) -> tuple[np.ndarray, int]:
    """``(audio, sampling rate)`` of a PCM .wav file: float32 (samples, channels), as ``tf.audio.decode_wav``.

    With ``desired_samples`` the audio is cut or padded with zeros to that many samples.

    Example:
        >>> import tempfile, wave
        >>> path = tempfile.mkdtemp() + "/t.wav"
        >>> with wave.open(path, "wb") as w:
        ...     w.setnchannels(2); w.setsampwidth(2); w.setframerate(16000)
        ...     w.writeframes(np.array([[-32768, 8192]], "<i2").tobytes())
        >>> read_wav(path, desired_samples=2)
        (array([[-1.  ,  0.25],
               [ 0.  ,  0.  ]], dtype=float32), 16000)
    """
    try:
        with wave.open(str(path), "rb") as f:
            channels, width, rate, frames = f.getnchannels(), f.getsampwidth(), f.getframerate(), f.getnframes()
            raw = f.readframes(frames)
    except (wave.Error, EOFError) as err:
        raise ValueError(f"{_WHAT}: {path} is not a PCM .wav file that Python's wave module reads ({err})") from None
    if width == 1:  # 8-bit PCM is unsigned
        data = (np.frombuffer(raw, np.uint8).astype(np.float32) - 128.0) / 128.0
    elif width == 2:
        data = np.frombuffer(raw, "<i2").astype(np.float32) / 32768.0
    elif width == 3:
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        ints = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        ints = np.where(ints >= 1 << 23, ints - (1 << 24), ints)
        data = ints.astype(np.float32) / float(1 << 23)
    elif width == 4:
        data = (np.frombuffer(raw, "<i4").astype(np.float64) / float(1 << 31)).astype(np.float32)
    else:
        raise ValueError(f"{_WHAT}: {path} has {8 * width}-bit samples; 8, 16, 24 or 32-bit PCM is read")
    audio = data.reshape(-1, channels)
    if desired_samples is not None:
        out = np.zeros((desired_samples, channels), np.float32)
        n = min(desired_samples, len(audio))
        out[:n] = audio[:n]
        audio = out
    return audio, rate


def audio_dataset_from_directory(
    directory: str,
    labels="inferred",
    label_mode: str | None = "int",
    class_names=None,
    batch_size: int | None = 32,
    sampling_rate: int | None = None,
    output_sequence_length: int | None = None,
    ragged: bool = False,
    shuffle: bool = True,
    seed: int | None = None,
    validation_split: float | None = None,
    subset: str | None = None,
    follow_links: bool = False,
    verbose: bool = True,
):
    """The ``.wav`` files under ``directory`` (one sub-folder per class) as a dataset of ``(audio, labels)`` batches.

    Audio batches are float32 (batch, samples, channels): each file cut or zero-padded to
    ``output_sequence_length`` samples, or, when None, the batch padded with zeros to its
    longest file (Keras's ``padded_batch``); ``batch_size=None`` gives one file at a time.
    ``sampling_rate``, when given, must be every file's rate (myelin does not resample; Keras
    does through tensorflow-io); a file at another rate is an error naming it. ``ragged=True``
    is refused: myelin has no ragged tensors. Labels and splits as in
    :func:`myelin.utils.image_dataset_from_directory`.

    Example:
        >>> import os, tempfile, wave
        >>> root = tempfile.mkdtemp()
        >>> os.makedirs(os.path.join(root, "a"))
        >>> with wave.open(os.path.join(root, "a", "1.wav"), "wb") as w:
        ...     w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000); w.writeframes(b"\\x00\\x40" * 4)
        >>> ds = audio_dataset_from_directory(root, output_sequence_length=2, label_mode=None, verbose=False)
        >>> ds[0].tolist()
        [[[0.5], [0.5]]]
    """
    if ragged:
        raise ValueError(f"{_WHAT}: ragged=True needs ragged tensors, which myelin does not have; use output_sequence_length")
    if labels not in ("inferred", None) and not isinstance(labels, (list, tuple)):
        raise ValueError(f"{_WHAT}: labels must be 'inferred', None or a list of integer labels, got {labels!r}")
    if label_mode not in ("int", "categorical", "binary", None):
        raise ValueError(f"{_WHAT}: label_mode must be 'int', 'categorical', 'binary' or None, got {label_mode!r}")
    _check_int(batch_size, "batch_size", allow_none=True)
    _check_int(output_sequence_length, "output_sequence_length", allow_none=True)
    _check_int(sampling_rate, "sampling_rate", allow_none=True)
    _check_split(validation_split, subset, shuffle, seed, _WHAT)
    paths, label_array, names, seed = _index_directory(
        directory, labels, (".wav",), class_names, shuffle, seed, follow_links, verbose, _WHAT
    )

    def read(path) -> np.ndarray:
        audio, rate = read_wav(path, output_sequence_length)
        if sampling_rate is not None and rate != sampling_rate:
            raise ValueError(
                f"{_WHAT}: {path} is sampled at {rate} Hz, not sampling_rate={sampling_rate}; myelin does not resample"
            )
        return audio

    def load(batch_paths):
        clips = [read(p) for p in batch_paths]
        channels = {c.shape[1] for c in clips}
        if len(channels) > 1:
            raise ValueError(f"{_WHAT}: the files of one batch have different channel counts {sorted(channels)}")
        out = np.zeros((len(clips), max(len(c) for c in clips), channels.pop()), np.float32)
        for i, c in enumerate(clips):
            out[i, : len(c)] = c
        return out

    return _from_files(
        paths, label_array, names, label_mode, batch_size, shuffle, seed, validation_split, subset, load, _WHAT, verbose
    )


__all__ = ["audio_dataset_from_directory", "read_wav"]
