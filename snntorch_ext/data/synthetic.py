r"""Synthetic N-MNIST: the offline MNIST digits recorded by a simulated event camera.

N-MNIST (Orchard et al. 2015) was made by showing each MNIST digit on a monitor to an ATIS
event camera that moved along three saccades, the sides of an isosceles triangle. This module
repeats that recording in simulation for the 5,000 digits of :func:`mnist_offline`, writes the
events in the real N-MNIST binary format and folder layout, and reads them back through
``tonic.datasets.NMNIST``, so that every N-MNIST recipe runs offline through the code path of
the real data set.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from .._checks import check_in_range, check_positive
from .events import NMNIST, EventFrames, _cache_dir, _check_common
from .offline import mnist_offline

__all__ = ["nmnist_synthetic", "saccade_events"]

GENERATOR_VERSION = 1
SENSOR = 34  # pixels of the N-MNIST canvas
SACCADE_US = 105_000  # duration of one saccade (the boundaries of tonic's/Orchard's stabilise)
# Digit displacement (dx, dy) in pixels at the corners of the triangle, as in N-MNIST.
VERTICES = np.array([(0.0, 0.0), (3.5, 7.0), (7.0, 0.0), (0.0, 0.0)])
STEP_US = 3_000  # simulation step; events inside a step get interpolated timestamps
SUBPIXEL = 4  # the digit's position is simulated to 1/SUBPIXEL of a pixel
_PAD = 7  # margin (pixels) of the upsampled image: the largest displacement
_DIGIT = 28
_BATCH = 250
CAMERA_DEFAULTS: dict[str, float] = {
    "contrast_threshold": 0.3,
    "threshold_mismatch": 0.1,
    "black_level": 0.2,
    "refractory_us": 1_000.0,
    "noise_rate": 0.3,
}


def _displacement(t_us: float) -> np.ndarray:
    """Digit displacement at time ``t``: bell-shaped speed along each side of the triangle."""
    k = min(int(t_us // SACCADE_US), 2)
    tau = (t_us - k * SACCADE_US) / SACCADE_US
    s = tau - np.sin(2 * np.pi * tau) / (2 * np.pi)
    return VERTICES[k] + s * (VERTICES[k + 1] - VERTICES[k])


def _upsample(images: np.ndarray) -> np.ndarray:
    """Digits resampled bilinearly on a grid of 1/SUBPIXEL pixel, with a zero margin.

    ``out[:, i, j]`` is the digit at row ``i / SUBPIXEL - _PAD`` and column
    ``j / SUBPIXEL - _PAD``; plain NumPy indexing (no BLAS, whose threads stall on a busy
    machine).
    """
    size = SUBPIXEL * (SENSOR + _PAD - 1) + 1
    u = np.arange(size) / SUBPIXEL - _PAD
    lo = np.floor(u).astype(np.int64)
    frac = (u - lo).astype(np.float32)
    margin = _PAD + 1
    side = margin + SENSOR + 1  # rows up to lo.max() + 1 = SENSOR
    padded = np.zeros((len(images), side, side), dtype=np.float32)
    padded[:, margin:margin + _DIGIT, margin:margin + _DIGIT] = images
    rows = lo + margin
    out = (1 - frac)[:, None] * padded[:, rows] + frac[:, None] * padded[:, rows + 1]
    return (1 - frac) * out[:, :, rows] + frac * out[:, :, rows + 1]


def _images(images: np.ndarray) -> np.ndarray:
    images = np.asarray(images)
    if images.ndim != 3 or images.shape[1:] != (_DIGIT, _DIGIT):
        raise ValueError(f"images must be an array [N, 28, 28], got shape {images.shape}")
    if images.dtype == np.uint8:
        return images.astype(np.float32) / 255
    images = images.astype(np.float32)
    if not np.isfinite(images).all() or images.min() < 0 or images.max() > 1:
        raise ValueError("images must be uint8 in [0, 255] or floats in [0, 1]")
    return images


def _camera(camera: Mapping[str, float] | None) -> dict[str, float]:
    params = dict(CAMERA_DEFAULTS)
    unknown = set(camera or {}) - set(params)
    if unknown:
        raise ValueError(f"camera: unknown parameters {sorted(unknown)}; "
                         f"allowed are {sorted(params)}")
    params.update(camera or {})
    check_positive("contrast_threshold", params["contrast_threshold"])
    check_in_range("threshold_mismatch", params["threshold_mismatch"], 0.0, 1.0)
    check_in_range("black_level", params["black_level"], 0.0, 1.0)
    check_in_range("refractory_us", params["refractory_us"], 0.0, 1e6)
    check_in_range("noise_rate", params["noise_rate"], 0.0, 1e4)
    if params["black_level"] == 0:
        raise ValueError("black_level must be > 0 (the log intensity of black is finite)")
    return {k: float(v) for k, v in params.items()}


_Events = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _record_batch(images: np.ndarray, rng: np.random.Generator, thresholds: np.ndarray,
                  params: dict[str, float]) -> _Events:
    """Events of one batch as flat arrays (digit, pixel, t in us, polarity) (internal)."""
    n, pixels = len(images), SENSOR * SENSOR
    black = params["black_level"]
    log_image = _upsample(images)
    np.log(black + (1 - black) * log_image, out=log_image)
    span = SUBPIXEL * (SENSOR - 1) + 1

    def start(t_us: float) -> tuple[int, int]:
        dx, dy = _displacement(t_us)
        return (SUBPIXEL * _PAD - int(round(SUBPIXEL * dy)),
                SUBPIXEL * _PAD - int(round(SUBPIXEL * dx)))

    def view(corner: tuple[int, int]) -> np.ndarray:
        r, c = corner
        return log_image[:, r:r + span:SUBPIXEL, c:c + span:SUBPIXEL]

    rise_thr, fall_thr = thresholds
    min_thr = np.minimum(rise_thr, fall_thr)
    prev = start(0.0)
    ref = view(prev).copy()
    last = np.full(n * pixels, -np.inf)
    chunks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    duration = 3 * SACCADE_US
    for k in range(1, duration // STEP_US + 1):
        corner = start(k * STEP_US)
        diff = view(corner) - ref
        idx = np.flatnonzero(np.abs(diff) >= min_thr)
        prev_corner, prev = prev, corner
        if idx.size == 0:
            continue
        d = diff.reshape(-1)[idx]
        pix = idx % pixels
        sign = np.where(d > 0, 1.0, -1.0)
        step = np.where(d > 0, rise_thr.reshape(-1)[pix], fall_thr.reshape(-1)[pix])
        count = np.floor(np.abs(d) / step).astype(np.int64)
        keep = count > 0
        idx, sign, step, count = idx[keep], sign[keep], step[keep], count[keep]
        digit, rc = np.divmod(idx, pixels)
        row, col = np.divmod(rc, SENSOR)
        level0 = ref.reshape(-1)[idx]
        now = log_image[digit, corner[0] + SUBPIXEL * row, corner[1] + SUBPIXEL * col]
        before = log_image[digit, prev_corner[0] + SUBPIXEL * row,
                           prev_corner[1] + SUBPIXEL * col]
        ref.reshape(-1)[idx] = level0 + sign * count * step
        t0 = (k - 1) * STEP_US
        for j in range(1, int(count.max(initial=0)) + 1):
            sel = count >= j
            level = level0[sel] + sign[sel] * j * step[sel]
            t = t0 + STEP_US * (level - before[sel]) / (now[sel] - before[sel])
            ok = t - last[idx[sel]] >= params["refractory_us"]
            last[idx[sel][ok]] = t[ok]
            chunks.append((idx[sel][ok], t[ok], sign[sel][ok] < 0))
    noise = rng.poisson(params["noise_rate"] * pixels * duration * 1e-6, n)
    total = int(noise.sum())
    chunks.append((np.repeat(np.arange(n), noise) * pixels + rng.integers(0, pixels, total),
                   rng.uniform(0, duration, total), rng.random(total) < 0.5))
    flat = np.concatenate([c[0] for c in chunks])
    times = np.floor(np.concatenate([c[1] for c in chunks])).astype(np.int64)
    polarity = np.concatenate([c[2] for c in chunks])
    digit, pixel = np.divmod(flat, pixels)
    order = np.lexsort((times, digit))
    return digit[order], pixel[order], times[order], polarity[order]


def _recordings(images: np.ndarray, seed: int, params: dict[str, float],
                progress: bool) -> Iterator[tuple[int, list[np.ndarray]]]:
    """Yield ``(first index, events of each digit)`` batch by batch (internal)."""
    rng = np.random.default_rng(seed)
    mismatch = params["threshold_mismatch"]
    thresholds = params["contrast_threshold"] * np.clip(
        1 + mismatch * rng.standard_normal((2, SENSOR, SENSOR)), 0.25, None)
    with tqdm(total=len(images), desc="synthetic N-MNIST", unit="digit",
              disable=not progress) as bar:
        for first in range(0, len(images), _BATCH):
            batch = images[first:first + _BATCH]
            digit, pixel, times, polarity = _record_batch(
                batch, rng, thresholds.astype(np.float32), params)
            bounds = np.searchsorted(digit, np.arange(len(batch) + 1))
            recordings = []
            for i in range(len(batch)):
                part = slice(bounds[i], bounds[i + 1])
                events = np.zeros(bounds[i + 1] - bounds[i], dtype=NMNIST.dtype)
                events["y"], events["x"] = np.divmod(pixel[part], SENSOR)
                events["t"], events["p"] = times[part], polarity[part]
                recordings.append(events)
            bar.update(len(batch))
            yield first, recordings


def saccade_events(images: np.ndarray, seed: int = 0, camera: Mapping[str, float] | None = None
                   ) -> list[np.ndarray]:
    r"""Record digits the way N-MNIST was recorded: saccades in front of an event camera.

    Each 28 x 28 digit sits at the top-left of a 34 x 34 canvas and moves along the three
    sides of an isosceles triangle, :math:`(0,0) \to (3.5,7) \to (7,0) \to (0,0)` pixels,
    one saccade per 105 ms (315 ms in all), with a bell-shaped speed
    :math:`s(\tau) = \tau - \sin(2\pi\tau)/2\pi` along each side. Every pixel sees the log
    intensity :math:`L = \log(b + (1-b) I)` of the bilinearly interpolated digit
    (:math:`I \in [0, 1]`, :math:`b` the black level of the monitor) and, like a DVS/ATIS
    pixel, emits an event each time :math:`L` moves by its contrast threshold from the level
    of its last event, ``p = 1`` when :math:`L` falls and ``p = 0`` when it rises (in the
    real N-MNIST recordings the ``p = 1`` events lie on the trailing edges of the moving
    strokes, which this convention reproduces):

    .. math::

        |L(t) - L_{\mathrm{ref}}| \ge C_{p}(x, y) \ \Rightarrow\ \text{event},\quad
        L_{\mathrm{ref}} \leftarrow L_{\mathrm{ref}} \pm C_{p}(x, y),
        \qquad C_p(x, y) = C\,\max(0.25,\ 1 + \sigma\,\xi_p(x, y))

    with a fixed per-pixel, per-polarity mismatch :math:`\xi \sim \mathcal{N}(0, 1)` (one
    sensor records all digits). Timestamps are interpolated linearly inside the 3 ms
    simulation steps; an event less than the refractory period after the previous event of
    its pixel is dropped (its level change is absorbed); uniform background noise events
    arrive at ``noise_rate`` Hz per pixel. The defaults give about 4-6 k events per digit,
    about half with ``p = 1``, over about 310 ms, close to the real recordings.

    Args:
        images: ``[N, 28, 28]`` digits, uint8 in ``[0, 255]`` or floats in ``[0, 1]``.
        seed: seed of the mismatch map and the noise (same seed, same events).
        camera: overrides of ``contrast_threshold`` (:math:`C`, 0.3), ``threshold_mismatch``
            (:math:`\sigma`, 0.1), ``black_level`` (:math:`b`, 0.2), ``refractory_us``
            (1000) and ``noise_rate`` (0.3 Hz per pixel).

    Returns:
        One structured array per digit with tonic's N-MNIST fields ``x, y, t, p``, sorted
        by time (``t`` in microseconds).

    Example::

        >>> import numpy as np, snntorch_ext as snx
        >>> digit = np.zeros((1, 28, 28), np.uint8); digit[0, 8:20, 12:16] = 255
        >>> events = snx.data.saccade_events(digit)[0]
        >>> len(events) > 500, events.dtype.names
        (True, ('x', 'y', 't', 'p'))

    Reference:
        G. Orchard, A. Jayawant, G. K. Cohen, N. Thakor. Converting static image datasets to
        spiking neuromorphic datasets using saccades. Frontiers in Neuroscience 9:437, 2015.
    """
    params = _camera(camera)
    images = _images(images)
    return [events for _, batch in _recordings(images, seed, params, progress=False)
            for events in batch]


def _encode_bin(events: np.ndarray) -> bytes:
    """Events in the N-MNIST binary format: 5 bytes, x | y | p:1 t[22:16] | t[15:8] | t[7:0]."""
    t = events["t"].astype(np.int64)
    if len(t) and (t.min() < 0 or t.max() >= 1 << 23):
        raise ValueError("N-MNIST timestamps must lie in [0, 2**23) microseconds")
    raw = np.empty((len(events), 5), dtype=np.uint8)
    raw[:, 0], raw[:, 1] = events["x"], events["y"]
    raw[:, 2] = (events["p"].astype(np.int64) << 7) | ((t >> 16) & 0x7F)
    raw[:, 3], raw[:, 4] = (t >> 8) & 0xFF, t & 0xFF
    return raw.tobytes()


def _settings_tag(seed: int, params: Mapping[str, float]) -> str:
    text = json.dumps({"version": GENERATOR_VERSION, "seed": seed, **params}, sort_keys=True)
    return f"seed{seed}-{hashlib.sha1(text.encode()).hexdigest()[:8]}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, run by another user
        pass
    return True


def _generate(root: Path, folder: Path, seed: int, params: dict[str, float]) -> None:
    """Write the Train/Test folders of synthetic N-MNIST atomically under ``folder``."""
    for stale in folder.parent.glob(f".{folder.name}.tmp-*"):  # left by a killed process
        pid = stale.name.rsplit("-", 1)[1]
        if not pid.isdigit() or int(pid) == os.getpid() or not _alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)
    tmp = folder.with_name(f".{folder.name}.tmp-{os.getpid()}")
    splits = {name: mnist_offline(root, train=name == "Train") for name in ("Train", "Test")}
    images = np.concatenate([s.data.numpy() for s in splits.values()])
    labels = np.concatenate([s.targets.numpy() for s in splits.values()])
    names = [(split, i) for split, s in splits.items() for i in range(len(s))]
    counts, on = [], 0
    show = sys.stderr.isatty()  # a bar in a terminal, not in logs, notebooks or built docs
    for first, batch in _recordings(_images(images), seed, params, progress=show):
        for offset, events in enumerate(batch):
            split, i = names[first + offset]
            path = tmp / "NMNIST" / split / str(int(labels[first + offset])) / f"{i:05d}.bin"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(_encode_bin(events))
            counts.append(len(events))
            on += int(events["p"].sum())
    manifest = {"generator_version": GENERATOR_VERSION, "seed": seed, "camera": params,
                "digits": {split: len(s) for split, s in splits.items()},
                "events_per_digit_mean": float(np.mean(counts)),
                "events_per_digit_std": float(np.std(counts)), "on_fraction": on / sum(counts)}
    (tmp / "synthetic.json").write_text(json.dumps(manifest, indent=2))
    try:
        os.replace(tmp, folder)
    except OSError:  # another process finished first: keep its files
        shutil.rmtree(tmp, ignore_errors=True)
        if not (folder / "synthetic.json").is_file():
            raise


def nmnist_synthetic(root: str | os.PathLike, train: bool = True, download: bool = False,
                     num_steps: int = 16, split_by: str = "number",
                     size: int | Sequence[int] | None = None, cache: bool = True,
                     augment: bool = False, seed: int = 0,
                     camera: Mapping[str, float] | None = None) -> EventFrames:
    r"""Offline N-MNIST: the digits of :func:`mnist_offline` recorded by :func:`saccade_events`.

    On first use the 4,000 training and 1,000 test digits are recorded (a few seconds to a minute,
    with a progress bar in a terminal) and written as N-MNIST ``.bin`` files in the real folder
    layout, ``root/nmnist_synthetic/<settings>/NMNIST/{Train,Test}/<digit>/NNNNN.bin``
    (``<settings>`` names the seed and a hash of the camera parameters), atomically (a temporary
    folder renamed when complete) with a ``synthetic.json`` manifest of the settings and event
    statistics. Every call reads the files through ``tonic.datasets.NMNIST`` and bins them as
    :func:`nmnist` does, into frames ``[T, 2, 34, 34]``:

    .. math:: F[k, p, y, x] = \#\{\, i \in S_k : (p_i, y_i, x_i) = (p, y, x) \,\}

    Args:
        root: cache directory (created if needed); the MNIST digits go to
            ``root/mnist_offline``.
        train: the 4,000 training recordings if True, else the 1,000 test recordings.
        download: accepted for a uniform signature; nothing is downloaded.
        num_steps, split_by, size, cache, augment: as in :func:`nmnist`.
        seed: seed of the simulated sensor (mismatch and noise).
        camera: overrides of the camera parameters of :func:`saccade_events`.

    Raises:
        ValueError: a bad camera parameter, or files under ``root`` that are incomplete or
            corrupt (the message names them).

    Example::

        >>> import snntorch_ext as snx
        >>> test = snx.data.nmnist_synthetic("~/.cache/snntorch_ext", train=False)  # doctest: +SKIP
        >>> frames, label = test[0]  # doctest: +SKIP
        >>> frames.shape  # doctest: +SKIP
        torch.Size([16, 2, 34, 34])

    Reference:
        G. Orchard, A. Jayawant, G. K. Cohen, N. Thakor. Converting static image datasets to
        spiking neuromorphic datasets using saccades. Frontiers in Neuroscience 9:437, 2015.
    """
    _check_common(num_steps, split_by)
    params = _camera(camera)
    root = Path(root).expanduser()
    base = root / "nmnist_synthetic" / _settings_tag(seed, params)
    if not (base / "synthetic.json").is_file():
        if base.exists():
            raise ValueError(f"{base} exists but has no synthetic.json: it was not written by "
                             f"nmnist_synthetic or is incomplete; delete it to write it again")
        base.parent.mkdir(parents=True, exist_ok=True)
        _generate(root, base, seed, params)
    manifest = json.loads((base / "synthetic.json").read_text())
    events = NMNIST(str(base), train=train)
    expected = manifest["digits"]["Train" if train else "Test"]
    if len(events) != expected:
        raise ValueError(f"{base / 'NMNIST'} holds {len(events)} {'Train' if train else 'Test'}"
                         f" recordings, expected {expected}; delete {base} to write it again")
    return EventFrames(
        events, NMNIST.sensor_size, num_steps, split_by, size,
        _cache_dir(base, "NMNIST", "train" if train else "test", len(events), num_steps,
                   split_by, size, NMNIST.sensor_size, cache),
        augment=augment and train, classes=[str(d) for d in range(10)])
