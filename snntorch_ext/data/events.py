r"""Event-camera data sets through tonic, as float frames ``[T, 2, H, W]``.

Each factory opens one of tonic's data sets (``tonic.datasets.NMNIST``, ``DVSGesture``,
``CIFAR10DVS``, ``NCALTECH101``) on files already on disk, bins every recording into ``T`` frames
with ``tonic.transforms.ToFrame`` and caches the frames on disk, so that only the first epoch
reads and bins events. Nothing is downloaded unless ``download=True``.

Example::

    >>> import snntorch_ext as snx
    >>> test = snx.data.nmnist("~/data", train=False, num_steps=16)  # doctest: +SKIP
    >>> frames, label = test[0]  # doctest: +SKIP
    >>> frames.shape  # doctest: +SKIP
    torch.Size([16, 2, 34, 34])
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import tonic
import torch
from torch.utils.data import Dataset
from torchvision.transforms import functional as tvf

from .._checks import check_positive_int

__all__ = ["EventFrames", "cifar10_dvs", "dvs_gesture", "ncaltech101", "nmnist"]

SPLIT_BY = ("number", "time")
TRAIN_FRACTION = 0.9
CACHE_VERSION = 1
_DOWNLOAD_HINT = (
    "or let tonic download it once with download=True (from the command line: "
    "`snntorch-ext train RECIPE --download --data-root {root}`); "
    "for a run without network use the recipe's --quick variant"
)


class _LocalFiles:
    """Mixin for tonic's data sets: read the files already on disk, download only if asked.

    tonic downloads unless the archive file and a full set of extracted files are present.
    With this mixin any extracted file under the data set's folder is enough, a missing data
    set with ``download=False`` is a FileNotFoundError that says where the files go, and a file
    that cannot be read (truncated, corrupt, coordinates outside the sensor) is a ValueError
    that names it. The subclasses keep tonic's class names, which name the data folders.
    """

    suffix: str = ""
    layout: str = ""

    def __init__(self, save_to: str, *args: Any, download: bool = False, **kwargs: Any) -> None:
        self._download = download
        super().__init__(save_to, *args, **kwargs)

    def _check_exists(self) -> bool:
        folder = Path(self.location_on_system, self.folder_name)
        if next(folder.rglob(f"*{self.suffix}"), None) is not None:
            return True
        if self._download:
            return super()._check_exists()
        root = Path(self.location_on_system).parent
        raise FileNotFoundError(
            f"{type(self).__name__} is not under {root}: no {self.suffix} file in {folder}. "
            f"Put the extracted files there ({self.layout}), " + _DOWNLOAD_HINT.format(root=root)
        )

    def __getitem__(self, index: int) -> tuple[np.ndarray, Any]:
        path = self.data[index]
        if self.suffix == ".bin":
            size = os.path.getsize(path)
            if size == 0 or size % 5:
                raise ValueError(f"{path} has {size} bytes, not a positive multiple of 5 (the "
                                 "5-byte events of the format): it is truncated or corrupt")
        try:
            events, target = super().__getitem__(index)
        except Exception as err:  # tonic and its decoders raise many kinds; name the file
            raise ValueError(f"{path} cannot be read as {type(self).__name__} events: it is "
                             f"truncated or corrupt ({type(err).__name__}: {err})") from err
        _check_coordinates(events, self.sensor_size, path)
        return events, target


class NMNIST(_LocalFiles, tonic.datasets.NMNIST):
    suffix, layout = ".bin", "NMNIST/Train/<digit>/*.bin and NMNIST/Test/<digit>/*.bin"


class DVSGesture(_LocalFiles, tonic.datasets.DVSGesture):
    suffix = ".npy"
    layout = ("DVSGesture/ibmGestureTrain/userXX_<lighting>/<label>.npy and "
              "DVSGesture/ibmGestureTest/...")


class CIFAR10DVS(_LocalFiles, tonic.datasets.CIFAR10DVS):
    suffix, layout = ".aedat4", "CIFAR10DVS/<class>/*.aedat4, e.g. CIFAR10DVS/airplane/*.aedat4"


class NCALTECH101(_LocalFiles, tonic.datasets.NCALTECH101):
    suffix, layout = ".bin", "NCALTECH101/Caltech101/<class>/*.bin"
    sensor_size = (240, 180, 2)  # tonic leaves it None; recordings fit in 240 x 180 after shift


def _check_coordinates(events: np.ndarray, sensor_size: Sequence[int], path: str) -> None:
    if len(events) == 0:
        return
    width, height = sensor_size[0], sensor_size[1]
    x, y = events["x"].astype(np.int64), events["y"].astype(np.int64)
    if x.min() < 0 or y.min() < 0 or x.max() >= width or y.max() >= height:
        raise ValueError(
            f"{path} holds events outside the {width} x {height} sensor (x in "
            f"[{x.min()}, {x.max()}], y in [{y.min()}, {y.max()}]): it is corrupt or not "
            f"a recording of this data set"
        )


def _frame_size(size: int | Sequence[int] | None, sensor_size: Sequence[int]
                ) -> tuple[int, int]:
    if size is None:
        return int(sensor_size[1]), int(sensor_size[0])
    if isinstance(size, int) and not isinstance(size, bool):
        return check_positive_int("size", size), size
    if (isinstance(size, Sequence) and len(size) == 2
            and all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in size)):
        return int(size[0]), int(size[1])
    raise ValueError(f"size must be None, an integer >= 1 or a pair (H, W), got {size!r}")


class _ToFrames:
    """Events -> ``[T, P, H, W]`` frames with tonic's ``ToFrame``, then resized (internal)."""

    def __init__(self, sensor_size: Sequence[int], num_steps: int, split_by: str,
                 size: tuple[int, int]) -> None:
        self.sensor_size = tuple(sensor_size)
        self.num_steps = num_steps
        bins = {"n_event_bins" if split_by == "number" else "n_time_bins": num_steps}
        self.to_frame = tonic.transforms.ToFrame(sensor_size=self.sensor_size, **bins)
        self.size = size

    def __call__(self, events: np.ndarray) -> np.ndarray:
        width, height, polarities = self.sensor_size
        if len(events) == 0:
            frames = np.zeros((self.num_steps, polarities, height, width), dtype=np.int16)
        else:
            if np.any(np.diff(events["t"].astype(np.int64)) < 0):
                events = events[np.argsort(events["t"], kind="stable")]
            frames = self.to_frame(events)
        if self.size == (height, width):
            return frames
        resized = tvf.resize(torch.from_numpy(frames.astype(np.float32)), list(self.size),
                             antialias=True)
        return resized.numpy()


class _Binned(Dataset):
    """``(events, label)`` items -> ``(frames, label)`` items (internal; what gets cached)."""

    def __init__(self, events: Dataset, to_frames: _ToFrames,
                 labels: dict[Any, int] | None) -> None:
        self.events, self.to_frames, self.labels = events, to_frames, labels

    def __len__(self) -> int:
        return len(self.events)

    def __getitem__(self, index: int) -> tuple[np.ndarray, int]:
        events, target = self.events[index]
        label = self.labels[target] if self.labels is not None else int(target)
        return self.to_frames(events), label


class EventFrames(Dataset):
    r"""A tonic event data set seen as frames: items ``(frames, label)``.

    ``frames`` is a float32 tensor ``[T, P, H, W]`` (``P = 2`` polarities) holding event counts,
    ``label`` an int. Events are binned with tonic's ``ToFrame``: ``split_by="number"`` gives
    every frame :math:`\lfloor N/T \rfloor` consecutive events (tonic drops the last
    :math:`N \bmod T`), ``split_by="time"`` cuts the recording into ``T`` windows of equal
    duration :math:`\lfloor (t_N - t_1)/T \rfloor`:

    .. math::

        F[k, p, y, x] = \#\{\, i \in S_k : p_i = p,\ y_i = y,\ x_i = x \,\},
        \qquad k = 0, \dots, T - 1

    Frames are then resized to ``size`` (bilinear with antialiasing, as TET and SpikingJelly
    resize DVS-CIFAR10 to 48 x 48) and, when ``cache_dir`` is given, cached on disk as one
    compressed ``.npz`` file per item, written atomically (temporary file and rename), so that
    epochs after the first neither read nor bin events. (tonic's ``DiskCachedDataset`` does
    the same with HDF5 files, but reads them 3x slower than these and writes them in place.)
    With
    ``augment=True`` every item is flipped left-right with probability 1/2 and rolled by up to
    5 pixels along each axis, the augmentation of TET for DVS-CIFAR10 (drawn with torch's
    generator, after the cache).

    Args:
        events: a data set of ``(events, target)`` with events as tonic's structured arrays
            (fields ``x``, ``y``, ``t``, ``p``).
        sensor_size: ``(W, H, P)`` as tonic writes it.
        num_steps: ``T``.
        split_by: ``"number"`` or ``"time"``.
        size: output ``(H, W)``, an int for a square, or None for the sensor's size.
        cache_dir: folder of the frame cache (one folder per setting), or None for no cache.
        augment: flip and roll every item at random.
        classes: class names, ``classes[label]``.
        labels: maps the data set's targets to ints (e.g. N-Caltech101's folder names), or
            None if the targets are ints already.

    Attributes:
        events: the underlying event data set; ``events[i]`` gives the raw events.
        targets: the int label of every item, read without opening any file.

    Example::

        >>> import numpy as np, snntorch_ext as snx
        >>> from tonic.datasets import NMNIST
        >>> ev = np.zeros(8, dtype=NMNIST.dtype)
        >>> ev["t"] = np.arange(8); ev["x"] = 3; ev["p"] = 1
        >>> ds = snx.data.EventFrames([(ev, 7)], (34, 34, 2), num_steps=4)
        >>> frames, label = ds[0]
        >>> frames.shape, frames.sum().item(), label
        (torch.Size([4, 2, 34, 34]), 8.0, 7)

    Reference:
        G. Lenz, K. Chaney, S. B. Shrestha, et al. Tonic: event-based datasets and
        transformations, 2021. S. Deng, Y. Li, S. Zhang, S. Gu. Temporal efficient training
        of spiking neural network via gradient re-weighting (TET), ICLR 2022.
    """

    def __init__(self, events: Any, sensor_size: Sequence[int], num_steps: int,
                 split_by: str = "number", size: int | Sequence[int] | None = None,
                 cache_dir: str | os.PathLike | None = None, augment: bool = False,
                 classes: Sequence[str] | None = None,
                 labels: dict[Any, int] | None = None) -> None:
        num_steps = check_positive_int("num_steps", num_steps)
        if split_by not in SPLIT_BY:
            raise ValueError(f"split_by must be one of {SPLIT_BY}, got {split_by!r}")
        self.events = events
        self.sensor_size = tuple(int(s) for s in sensor_size)
        self.num_steps = num_steps
        self.size = _frame_size(size, self.sensor_size)
        self.augment = bool(augment)
        self.classes = list(classes) if classes is not None else None
        targets = getattr(events, "targets", None)
        if targets is None:
            self.targets = None
        else:
            self.targets = [labels[t] if labels is not None else int(t) for t in targets]
        source: Any = _Binned(events, _ToFrames(self.sensor_size, num_steps, split_by,
                                                self.size), labels)
        if cache_dir is not None:
            source = _FrameCache(source, Path(cache_dir))
        self._source = source

    def __len__(self) -> int:
        return len(self._source)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        frames, label = self._source[index]
        frames = torch.from_numpy(np.asarray(frames, dtype=np.float32))
        if self.augment:
            frames = _flip_and_roll(frames)
        return frames, int(label)


class _FrameCache(Dataset):
    """Items of ``source`` cached as ``folder/<index>.npz``, written atomically (internal)."""

    def __init__(self, source: Dataset, folder: Path) -> None:
        self.source, self.folder = source, folder

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, index: int) -> tuple[np.ndarray, int]:
        path = self.folder / f"{index}.npz"
        try:
            with np.load(path) as stored:
                return stored["frames"], int(stored["label"])
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):
            pass  # not cached yet (or an unreadable file): bin the events and write it
        frames, label = self.source[index]
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / f"{index}.tmp-{os.getpid()}.npz"
        np.savez_compressed(tmp, frames=frames, label=label)
        os.replace(tmp, path)
        return frames, label


def _flip_and_roll(frames: torch.Tensor, max_shift: int = 5) -> torch.Tensor:
    if torch.rand(()) < 0.5:
        frames = frames.flip(-1)
    shifts = torch.randint(-max_shift, max_shift + 1, (2,)).tolist()
    return frames.roll(shifts=shifts, dims=(-2, -1))


class _Subset(Dataset):
    """The items ``indices`` of an event data set, keeping ``targets`` (internal)."""

    def __init__(self, dataset: Any, indices: np.ndarray) -> None:
        self.dataset, self.indices = dataset, [int(i) for i in indices]
        self.targets = [dataset.targets[i] for i in self.indices]

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int) -> tuple[np.ndarray, Any]:
        return self.dataset[self.indices[index]]


def split_per_class(targets: Sequence[Any], train: bool, seed: int = 0,
                    train_fraction: float = TRAIN_FRACTION) -> np.ndarray:
    """Indices of a seeded per-class split: ``round(train_fraction * n)`` of each class train.

    Every class is shuffled with ``numpy.random.default_rng(seed)`` (classes in sorted order)
    and its first ``round(train_fraction * n)`` items go to training, the rest to test; the
    returned indices are sorted (internal).
    """
    rng = np.random.default_rng(seed)
    labels = np.asarray([str(t) for t in targets])
    chosen = []
    for name in sorted(set(labels.tolist())):
        idx = rng.permutation(np.flatnonzero(labels == name))
        cut = int(round(train_fraction * len(idx)))
        chosen.append(idx[:cut] if train else idx[cut:])
    return np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, dtype=np.int64)


def _cache_dir(root: Path, name: str, split: str, items: int, num_steps: int, split_by: str,
               size: int | Sequence[int] | None, sensor_size: Sequence[int], cache: bool
               ) -> Path | None:
    """``root/frames_cache/<name>/<split>-n<items>-T<T>-<split_by>-<H>x<W>-v<version>``."""
    if not cache:
        return None
    height, width = _frame_size(size, sensor_size)
    key = f"{split}-n{items}-T{num_steps}-{split_by}-{height}x{width}-v{CACHE_VERSION}"
    return root / "frames_cache" / name / key


def _check_common(num_steps: int, split_by: str) -> None:
    check_positive_int("num_steps", num_steps)
    if split_by not in SPLIT_BY:
        raise ValueError(f"split_by must be one of {SPLIT_BY}, got {split_by!r}")


def nmnist(root: str | os.PathLike, train: bool = True, download: bool = False,
           num_steps: int = 16, split_by: str = "number",
           size: int | Sequence[int] | None = None, cache: bool = True,
           augment: bool = False) -> EventFrames:
    r"""N-MNIST through ``tonic.datasets.NMNIST``: 60,000 + 10,000 recordings, 34 x 34, 10 classes.

    Each MNIST digit was recorded by an ATIS camera moving along three saccades; the
    recordings are binned into ``num_steps`` frames ``[T, 2, 34, 34]`` (see
    :class:`EventFrames` for the binning):

    .. math:: F[k, p, y, x] = \#\{\, i \in S_k : (p_i, y_i, x_i) = (p, y, x) \,\}

    Args:
        root: folder that holds ``NMNIST/Train/<digit>/*.bin`` and ``NMNIST/Test/...``.
        train: training split (60,000) if True, else the test split (10,000).
        download: let tonic download the archives if the files are missing (False: a
            missing data set is a FileNotFoundError that says where the files go).
        num_steps: ``T``, the number of frames.
        split_by: ``"number"`` (equal event counts per frame, SpikingJelly's default) or
            ``"time"`` (equal durations).
        size: output ``(H, W)`` or an int, None keeps 34 x 34.
        cache: cache the frames under ``root/frames_cache/NMNIST``.
        augment: random flip and roll of training items (never of test items).

    Raises:
        FileNotFoundError: no N-MNIST file under ``root`` and ``download=False``.
        ValueError: on reading a truncated or corrupt file (the message names it).

    Example::

        >>> import snntorch_ext as snx
        >>> train = snx.data.nmnist("~/data", train=True, num_steps=16)  # doctest: +SKIP

    Reference:
        G. Orchard, A. Jayawant, G. K. Cohen, N. Thakor. Converting static image datasets to
        spiking neuromorphic datasets using saccades. Frontiers in Neuroscience 9:437, 2015.
    """
    _check_common(num_steps, split_by)
    root = Path(root).expanduser()
    events = NMNIST(str(root), train=train, download=download)
    return EventFrames(
        events, NMNIST.sensor_size, num_steps, split_by, size,
        _cache_dir(root, "NMNIST", "train" if train else "test", len(events), num_steps,
                   split_by, size, NMNIST.sensor_size, cache),
        augment=augment and train, classes=[str(d) for d in range(10)])


def dvs_gesture(root: str | os.PathLike, train: bool = True, download: bool = False,
                num_steps: int = 16, split_by: str = "number",
                size: int | Sequence[int] | None = None, cache: bool = True,
                augment: bool = False) -> EventFrames:
    r"""DVS-Gesture through ``tonic.datasets.DVSGesture``: 11 gestures, 128 x 128 frames.

    tonic's version of the data set (each recording already cut into one sample per
    gesture, 1,077 training and 264 test samples from 29 people under 3 lightings; the test
    split holds people 24-29, as in the original paper). Frames are ``[T, 2, H, W]``:

    .. math:: F[k, p, y, x] = \#\{\, i \in S_k : (p_i, y_i, x_i) = (p, y, x) \,\}

    Args:
        root: folder that holds ``DVSGesture/ibmGestureTrain/userXX_<lighting>/<label>.npy``
            and ``DVSGesture/ibmGestureTest/...``.
        train: training split if True, else the test split.
        download: let tonic download the archives if missing.
        num_steps, split_by, size, cache, augment: as in :func:`nmnist`; ``size=None`` keeps
            128 x 128.

    Raises:
        FileNotFoundError: no recording under ``root`` and ``download=False``.
        ValueError: on reading a truncated or corrupt file (the message names it).

    Example::

        >>> import snntorch_ext as snx
        >>> test = snx.data.dvs_gesture("~/data", train=False, num_steps=16)  # doctest: +SKIP

    Reference:
        A. Amir, B. Taba, D. Berg, et al. A low power, fully event-based gesture recognition
        system. CVPR 2017, 7243-7252.
    """
    _check_common(num_steps, split_by)
    root = Path(root).expanduser()
    events = DVSGesture(str(root), train=train, download=download)
    return EventFrames(
        events, DVSGesture.sensor_size, num_steps, split_by, size,
        _cache_dir(root, "DVSGesture", "train" if train else "test", len(events), num_steps,
                   split_by, size, DVSGesture.sensor_size, cache),
        augment=augment and train, classes=DVSGesture.classes)


def cifar10_dvs(root: str | os.PathLike, train: bool = True, download: bool = False,
                num_steps: int = 10, split_by: str = "number",
                size: int | Sequence[int] | None = None, cache: bool = True,
                augment: bool = False, split_seed: int = 0) -> EventFrames:
    r"""CIFAR10-DVS through ``tonic.datasets.CIFAR10DVS``: 10,000 recordings, 10 classes.

    The data set has no official split; as the papers do, each class is split 9:1 into
    training and test recordings (900 and 100 per class), here at random with a fixed seed
    (``split_seed``) so that every run sees the same split. Frames are ``[T, 2, H, W]``,
    128 x 128 unless ``size`` is given (TET, MSG and many others use 48):

    .. math:: |\mathcal{D}_{\mathrm{train}}^{c}| = \mathrm{round}(0.9\,|\mathcal{D}^{c}|)

    Reading ``.aedat4`` files needs the ``aedat`` package (``pip install aedat``).

    Args:
        root: folder that holds ``CIFAR10DVS/<class>/*.aedat4`` (``airplane``, ...).
        train: the 90 % training part of every class if True, else the 10 % test part.
        download: let tonic download the archive if missing.
        num_steps, split_by, size, cache, augment: as in :func:`nmnist`.
        split_seed: seed of the per-class split.

    Raises:
        FileNotFoundError: no recording under ``root`` and ``download=False``.
        ValueError: on reading a truncated or corrupt file (the message names it).

    Example::

        >>> import snntorch_ext as snx
        >>> train = snx.data.cifar10_dvs("~/data", num_steps=10, size=48)  # doctest: +SKIP

    Reference:
        H. Li, H. Liu, X. Ji, G. Li, L. Shi. CIFAR10-DVS: an event-stream dataset for object
        classification. Frontiers in Neuroscience 11:309, 2017.
    """
    _check_common(num_steps, split_by)
    root = Path(root).expanduser()
    full = CIFAR10DVS(str(root), download=download)
    split = "train" if train else "test"
    events = _Subset(full, split_per_class(full.targets, train, split_seed))
    return EventFrames(
        events, CIFAR10DVS.sensor_size, num_steps, split_by, size,
        _cache_dir(root, "CIFAR10DVS", f"{split}-seed{split_seed}", len(events), num_steps,
                   split_by, size, CIFAR10DVS.sensor_size, cache),
        augment=augment and train, classes=sorted(CIFAR10DVS.classes, key=CIFAR10DVS.classes.get))


def ncaltech101(root: str | os.PathLike, train: bool = True, download: bool = False,
                num_steps: int = 10, split_by: str = "number",
                size: int | Sequence[int] | None = None, cache: bool = True,
                augment: bool = False, split_seed: int = 0) -> EventFrames:
    r"""N-Caltech101 through ``tonic.datasets.NCALTECH101``: 8,709 recordings, 101 classes.

    tonic shifts every recording to start at ``x = y = 0``; frames are ``[T, 2, 180, 240]``
    (the largest recording fits) unless ``size`` is given. Labels are the class folders in
    sorted order (``classes``; ``BACKGROUND_Google`` is one of the 101). There is no
    official split: each class is split 9:1 at random with a fixed seed, as for
    :func:`cifar10_dvs`:

    .. math:: |\mathcal{D}_{\mathrm{train}}^{c}| = \mathrm{round}(0.9\,|\mathcal{D}^{c}|)

    Args:
        root: folder that holds ``NCALTECH101/Caltech101/<class>/*.bin``.
        train: the 90 % training part of every class if True, else the 10 % test part.
        download: let tonic download the archive if missing.
        num_steps, split_by, size, cache, augment: as in :func:`nmnist`.
        split_seed: seed of the per-class split.

    Raises:
        FileNotFoundError: no recording under ``root`` and ``download=False``.
        ValueError: on reading a truncated or corrupt file (the message names it).

    Example::

        >>> import snntorch_ext as snx
        >>> train = snx.data.ncaltech101("~/data", num_steps=10, size=48)  # doctest: +SKIP

    Reference:
        G. Orchard, A. Jayawant, G. K. Cohen, N. Thakor. Converting static image datasets to
        spiking neuromorphic datasets using saccades. Frontiers in Neuroscience 9:437, 2015.
    """
    _check_common(num_steps, split_by)
    root = Path(root).expanduser()
    full = NCALTECH101(str(root), download=download)
    classes = sorted(set(full.targets))
    split = "train" if train else "test"
    events = _Subset(full, split_per_class(full.targets, train, split_seed))
    return EventFrames(
        events, NCALTECH101.sensor_size, num_steps, split_by, size,
        _cache_dir(root, "NCALTECH101", f"{split}-seed{split_seed}", len(events), num_steps,
                   split_by, size, NCALTECH101.sensor_size, cache),
        augment=augment and train, classes=classes,
        labels={name: i for i, name in enumerate(classes)})
