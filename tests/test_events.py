"""Event-camera data: tonic-backed loaders on tiny files in each real format, and the
synthetic N-MNIST recorder (tests/test_events.py)."""

from __future__ import annotations

import json
import math
import pickle
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest
import tonic
import torch

import snntorch_ext as snx
from snntorch_ext.data import synthetic

SAMPLE_CANDIDATES = (Path("/work/shared/data/sample_nmnist.bin"),
                     Path(__file__).resolve().parents[2] / "shared" / "data" / "sample_nmnist.bin",
                     Path("../shared/data/sample_nmnist.bin"))
QUIET = {"threshold_mismatch": 0.0, "noise_rate": 0.0, "refractory_us": 0.0}


# ---------------------------------------------------------------- writers of the real formats
def write_nmnist_bin(path: Path, x, y, t, p) -> None:
    """N-MNIST/N-Caltech101 events, written byte by byte from the format's description."""
    out = bytearray()
    for xi, yi, ti, pi in zip(x, y, t, p, strict=True):
        out += bytes([int(xi), int(yi), (int(pi) << 7) | (int(ti) >> 16), (int(ti) >> 8) & 255,
                      int(ti) & 255])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(out))


def write_gesture_npy(path: Path, x, y, p, t_ms) -> None:
    """tonic's DVS-Gesture sample: an int array [N, 4] of x, y, p, t (milliseconds)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, np.stack([x, y, p, t_ms], axis=1).astype(np.int64))


def write_aedat4(path: Path, t, x, y, on, width: int = 128, height: int = 128) -> None:
    """A minimal AEDAT 4.0 file: IOHeader and one uncompressed event packet (FlatBuffers)."""
    info = ('<dv version="2.0"><node name="outInfo" path="/mainloop/Recorder/outInfo/">'
            '<node name="0" path="/mainloop/Recorder/outInfo/0/">'
            '<attr key="compression" type="string">NONE</attr>'
            '<attr key="typeIdentifier" type="string">EVTS</attr>'
            '<node name="info" path="/mainloop/Recorder/outInfo/0/info/">'
            f'<attr key="sizeX" type="int">{width}</attr>'
            f'<attr key="sizeY" type="int">{height}</attr></node></node></node></dv>').encode()
    header = (struct.pack("<I", 16) + struct.pack("<HHHHH", 10, 20, 16, 8, 4) + b"\0\0"
              + struct.pack("<iIqi", 12, 16, -1, 0) + struct.pack("<I", len(info)) + info + b"\0")
    events = np.zeros(len(t), dtype=[("t", "<i8"), ("x", "<i2"), ("y", "<i2"), ("on", "u1"),
                                     ("pad", "V3")])
    events["t"], events["x"], events["y"], events["on"] = t, x, y, on
    body = (struct.pack("<I", 16) + b"EVTS" + struct.pack("<HHH", 6, 8, 4) + b"\0\0"
            + struct.pack("<iII", 8, 4, len(t)) + events.tobytes())
    packet = struct.pack("<I", len(body)) + body
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"#!AER-DAT4.0\r\n" + struct.pack("<I", len(header)) + header
                     + struct.pack("<iI", 0, len(packet)) + packet)


def expected_frames(x, y, t, p, num_steps, split_by, height, width):
    """tonic's ToFrame binning, computed independently (float64)."""
    x, y, t, p = map(np.asarray, (x, y, t, p))
    frames = np.zeros((num_steps, 2, height, width))
    if split_by == "number":
        per = len(t) // num_steps
        bins = [np.arange(k * per, (k + 1) * per) for k in range(num_steps)]
    else:
        width_t = (t[-1] - t[0]) // num_steps
        bins = [np.flatnonzero((t >= t[0] + k * width_t) & (t < t[0] + (k + 1) * width_t))
                for k in range(num_steps)]
    for k, idx in enumerate(bins):
        for i in idx:
            frames[k, p[i], y[i], x[i]] += 1
    return torch.tensor(frames, dtype=torch.float32)


def nmnist_tree(root: Path, per_split=(("Train", 3), ("Test", 2))) -> dict:
    """Tiny N-MNIST folders: ``n`` recordings of 12 events for digits 0, 1 and 2."""
    rng = np.random.default_rng(0)
    written = {}
    for split, n in per_split:
        for digit in (0, 1, 2):
            for i in range(n):
                x, y = rng.integers(0, 34, 12), rng.integers(0, 34, 12)
                t = np.sort(rng.integers(0, 300_000, 12))
                p = rng.integers(0, 2, 12)
                path = root / "NMNIST" / split / str(digit) / f"{i:05d}.bin"
                write_nmnist_bin(path, x, y, t, p)
                written[path] = (digit, x, y, t, p)
    return written


# ---------------------------------------------------------------------------------- N-MNIST
@pytest.mark.parametrize("split_by", ["number", "time"])
def test_nmnist_frames_labels_and_binning(tmp_path, split_by):
    written = nmnist_tree(tmp_path)
    train = snx.data.nmnist(tmp_path, train=True, num_steps=4, split_by=split_by, cache=False)
    test = snx.data.nmnist(tmp_path, train=False, num_steps=4, split_by=split_by, cache=False)
    assert (len(train), len(test)) == (9, 6)
    assert isinstance(train.events, tonic.datasets.NMNIST)
    assert sorted(train.targets) == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    for i in range(len(train)):
        frames, label = train[i]
        digit, x, y, t, p = written[Path(train.events.data[i])]
        assert frames.dtype == torch.float32 and frames.shape == (4, 2, 34, 34)
        assert label == digit == train.targets[i] and isinstance(label, int)
        torch.testing.assert_close(frames, expected_frames(x, y, t, p, 4, split_by, 34, 34))


def test_nmnist_cache_is_written_once_and_reused(tmp_path):
    nmnist_tree(tmp_path)
    ds = snx.data.nmnist(tmp_path, train=False, num_steps=3)
    first = [ds[i] for i in range(len(ds))]
    cached = sorted((tmp_path / "frames_cache" / "NMNIST").rglob("*.npz"))
    assert len(cached) == len(ds) == 6
    for path in written_paths(ds):
        path.unlink()  # the events are gone: items must now come from the cache
    again = snx.data.EventFrames(ds.events, (34, 34, 2), 3, cache_dir=cached[0].parent)
    for (f1, l1), i in zip(first, range(len(ds)), strict=True):
        f2, l2 = again[i]
        assert torch.equal(f1, f2) and l1 == l2


def written_paths(ds):
    return [Path(p) for p in ds.events.data]


def test_nmnist_missing_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"download=True.*") as err:
        snx.data.nmnist(tmp_path, train=True, num_steps=4)
    assert str(tmp_path) in str(err.value) and "NMNIST/Train/<digit>/*.bin" in str(err.value)


def test_nmnist_truncated_and_corrupt_files_name_the_file(tmp_path):
    nmnist_tree(tmp_path, per_split=(("Train", 1),))
    ds = snx.data.nmnist(tmp_path, num_steps=2, cache=False)
    target = Path(ds.events.data[1])
    target.write_bytes(target.read_bytes()[:-2])
    with pytest.raises(ValueError, match="truncated") as err:
        ds[1]
    assert str(target) in str(err.value)
    write_nmnist_bin(target, [40], [3], [10], [1])  # x = 40 lies outside the 34 x 34 sensor
    with pytest.raises(ValueError, match="outside the 34 x 34 sensor") as err:
        ds[1]
    assert str(target) in str(err.value)


def test_real_sample_reads_through_snx_data(tmp_path):
    sample = next((p for p in SAMPLE_CANDIDATES if p.is_file()), None)
    if sample is None:
        pytest.skip("the real N-MNIST sample (shared/data/sample_nmnist.bin) is not here")
    target = tmp_path / "NMNIST" / "Test" / "4" / "00001.bin"
    target.parent.mkdir(parents=True)
    shutil.copy(sample, target)
    ds = snx.data.nmnist(tmp_path, train=False, num_steps=25, cache=False)
    events, label = ds.events[0]
    assert len(events) == 4325 and label == 4
    assert 300_000 < events["t"].max() - events["t"].min() < 320_000
    frames, _ = ds[0]
    assert frames.shape == (25, 2, 34, 34) and frames.sum().item() == 4325  # 25 divides 4325


# ------------------------------------------------------------------------------ DVS-Gesture
def test_dvs_gesture_npy_shapes_labels_resize(tmp_path):
    folder = tmp_path / "DVSGesture" / "ibmGestureTrain"
    for user, label in ((1, 3), (2, 10)):
        n = 40
        write_gesture_npy(folder / f"user{user:02d}_fluorescent" / f"{label}.npy",
                          np.full(n, 40 + label), np.full(n, 60), np.arange(n) % 2,
                          np.arange(n) * 10)
    ds = snx.data.dvs_gesture(tmp_path, train=True, num_steps=5, cache=False)
    assert len(ds) == 2 and sorted(ds.targets) == [3, 10]
    frames, label = ds[0]
    assert frames.shape == (5, 2, 128, 128) and frames.sum().item() == 40
    assert frames[:, :, 60, 40 + label].sum().item() == 40
    small = snx.data.dvs_gesture(tmp_path, train=True, num_steps=5, size=64, cache=False)
    frames64, _ = small[0]
    assert frames64.shape == (5, 2, 64, 64)
    torch.testing.assert_close(frames64.sum() * 4, frames.sum(), rtol=1e-4, atol=1e-3)
    with pytest.raises(FileNotFoundError, match="ibmGestureTest"):
        snx.data.dvs_gesture(tmp_path, train=False, num_steps=5)


def test_dvs_gesture_corrupt_npy_names_the_file(tmp_path):
    path = tmp_path / "DVSGesture" / "ibmGestureTest" / "user24_led" / "0.npy"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\x93NUMPY not really")
    ds = snx.data.dvs_gesture(tmp_path, train=False, num_steps=2, cache=False)
    with pytest.raises(ValueError, match="truncated or corrupt") as err:
        ds[0]
    assert str(path) in str(err.value)


# ------------------------------------------------------------------------------ CIFAR10-DVS
def cifar10_dvs_tree(root: Path, per_class: int = 10) -> None:
    for name in tonic.datasets.CIFAR10DVS.classes:
        for i in range(per_class):
            write_aedat4(root / "CIFAR10DVS" / name / f"cifar10_{name}_{i}.aedat4",
                         np.arange(6) * 100, np.full(6, i), np.full(6, 2 * i), np.arange(6) % 2)


def test_cifar10_dvs_aedat4_split_9_to_1_per_class(tmp_path):
    pytest.importorskip("aedat", reason="reading .aedat4 needs the aedat package")
    cifar10_dvs_tree(tmp_path)
    train = snx.data.cifar10_dvs(tmp_path, train=True, num_steps=3, size=48, cache=False)
    test = snx.data.cifar10_dvs(tmp_path, train=False, num_steps=3, size=48, cache=False)
    assert (len(train), len(test)) == (90, 10)
    assert np.bincount(train.targets).tolist() == [9] * 10
    assert np.bincount(test.targets).tolist() == [1] * 10
    assert not set(train.events.indices) & set(test.events.indices)
    again = snx.data.cifar10_dvs(tmp_path, train=False, num_steps=3, cache=False)
    other = snx.data.cifar10_dvs(tmp_path, train=False, num_steps=3, cache=False, split_seed=1)
    assert again.events.indices == test.events.indices != other.events.indices
    frames, label = test[0]
    assert frames.shape == (3, 2, 48, 48) and label == test.targets[0] == 0
    full, _ = again[0]
    index = int(Path(again.events.dataset.data[again.events.indices[0]]).stem.split("_")[-1])
    assert full.shape == (3, 2, 128, 128) and full.sum().item() == 6
    assert full[:, :, 2 * index, index].sum().item() == 6
    assert train.classes[0] == "airplane" and train.classes[9] == "truck"


def test_cifar10_dvs_corrupt_file_names_it(tmp_path):
    pytest.importorskip("aedat", reason="reading .aedat4 needs the aedat package")
    path = tmp_path / "CIFAR10DVS" / "cat" / "cifar10_cat_0.aedat4"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"#!AER-DAT4.0\r\n\x05\x00")
    ds = snx.data.cifar10_dvs(tmp_path, train=True, num_steps=2, cache=False)
    with pytest.raises(ValueError, match="truncated or corrupt") as err:
        ds[0]
    assert str(path) in str(err.value)


# ----------------------------------------------------------------------------- N-Caltech101
def test_ncaltech101_labels_split_and_shapes(tmp_path):
    names = ["BACKGROUND_Google", "accordion", "airplanes"]
    for name in names:
        for i in range(10):
            write_nmnist_bin(tmp_path / "NCALTECH101" / "Caltech101" / name / f"image_{i:04d}.bin",
                             [5 + i, 200], [7, 150], [10, 20], [1, 0])
    train = snx.data.ncaltech101(tmp_path, train=True, num_steps=2, cache=False)
    test = snx.data.ncaltech101(tmp_path, train=False, num_steps=2, cache=False)
    assert train.classes == names and (len(train), len(test)) == (27, 3)
    assert np.bincount(train.targets).tolist() == [9, 9, 9]
    frames, label = test[2]
    assert frames.shape == (2, 2, 180, 240) and label == 2
    i = int(Path(test.events.dataset.data[test.events.indices[2]]).stem.split("_")[1])
    assert frames[0, 1, 0, 0].item() == 1  # tonic shifts every recording to start at 0
    assert frames[1, 0, 150 - 7, 200 - 5 - i].item() == 1


# ------------------------------------------------------------------------ EventFrames itself
def test_event_frames_augment_only_moves_events_and_bad_arguments():
    ev = np.zeros(8, dtype=tonic.datasets.NMNIST.dtype)
    ev["t"], ev["x"], ev["y"], ev["p"] = np.arange(8), np.arange(8) + 10, 12, 1
    plain = snx.data.EventFrames([(ev, 3)], (34, 34, 2), num_steps=2)
    moved = snx.data.EventFrames([(ev, 3)], (34, 34, 2), num_steps=2, augment=True)
    torch.manual_seed(0)
    outs = [moved[0][0] for _ in range(20)]
    assert all(o.sum().item() == 8 for o in outs)
    assert any(not torch.equal(o, plain[0][0]) for o in outs)
    with pytest.raises(ValueError, match="num_steps"):
        snx.data.EventFrames([(ev, 3)], (34, 34, 2), num_steps=0)
    with pytest.raises(ValueError, match="split_by"):
        snx.data.EventFrames([(ev, 3)], (34, 34, 2), num_steps=2, split_by="count")
    with pytest.raises(ValueError, match="size"):
        snx.data.EventFrames([(ev, 3)], (34, 34, 2), num_steps=2, size=(0, 3))


def test_empty_recording_gives_empty_frames_of_the_right_shape():
    ev = np.zeros(0, dtype=tonic.datasets.NMNIST.dtype)
    frames, _ = snx.data.EventFrames([(ev, 1)], (40, 30, 2), num_steps=3)[0]
    assert frames.shape == (3, 2, 30, 40) and frames.sum() == 0


# --------------------------------------------------------------------- synthetic recordings
def test_saccade_events_pixel_physics():
    """A pixel the bright digit leaves and re-enters emits floor(log(1/b)/C) events each way."""
    image = np.ones((1, 28, 28), dtype=np.float32)
    camera = {**QUIET, "contrast_threshold": 0.3, "black_level": 0.2}
    events = snx.data.saccade_events(image, camera=camera)[0]
    n = math.floor(math.log(1 / 0.2) / 0.3)
    for y in (10, 15, 20):
        pixel = events[(events["x"] == 0) & (events["y"] == y)]
        falls, rises = pixel["t"][pixel["p"] == 1], pixel["t"][pixel["p"] == 0]
        assert len(falls) == len(rises) == n
        assert falls.max() < rises.min()  # leaves in saccade 1, comes back in saccade 3
    assert np.all(np.diff(events["t"]) >= 0) and 0 <= events["t"].min()
    assert events["t"].max() <= 3 * synthetic.SACCADE_US


def test_saccade_events_follow_the_triangle():
    image = np.zeros((1, 28, 28), dtype=np.uint8)
    image[0, 10, 10] = 255
    events = snx.data.saccade_events(image, camera=QUIET)[0]
    assert events["x"].min() >= 9 and events["x"].max() <= 18
    assert events["y"].min() >= 9 and events["y"].max() <= 18
    first = events[events["t"] < synthetic.SACCADE_US]
    last = events[events["t"] >= 2 * synthetic.SACCADE_US]
    assert first["y"].max() >= 16  # the first side climbs 7 pixels
    assert last["y"].min() >= 9 and last["y"].max() <= 11  # the base of the triangle is flat


def test_saccade_events_refractory_noise_and_seed():
    image = np.zeros((2, 28, 28), dtype=np.uint8)
    image[:, 6:22, 12:16] = 255
    camera = {**QUIET, "refractory_us": 2000.0}
    events = snx.data.saccade_events(image, camera=camera)[0]
    order = np.lexsort((events["t"], events["y"], events["x"]))
    e = events[order]
    same = (np.diff(e["x"]) == 0) & (np.diff(e["y"]) == 0)
    assert same.any() and np.diff(e["t"])[same].min() >= 2000 - 1  # timestamps are floored
    assert len(snx.data.saccade_events(np.zeros((1, 28, 28)), camera=QUIET)[0]) == 0
    noise = snx.data.saccade_events(np.zeros((1, 28, 28)), camera={"noise_rate": 50.0})[0]
    expected = 50.0 * 34 * 34 * 0.315
    assert abs(len(noise) - expected) < 5 * math.sqrt(expected)
    a = snx.data.saccade_events(image, seed=3)
    b = snx.data.saccade_events(image, seed=3)
    c = snx.data.saccade_events(image, seed=4)
    assert all(np.array_equal(u, v) for u, v in zip(a, b, strict=True))
    assert not np.array_equal(a[0], c[0])


def test_saccade_events_bad_input():
    with pytest.raises(ValueError, match="images"):
        snx.data.saccade_events(np.zeros((28, 28)))
    with pytest.raises(ValueError, match="images"):
        snx.data.saccade_events(np.full((1, 28, 28), 2.0))
    with pytest.raises(ValueError, match="unknown parameters"):
        snx.data.saccade_events(np.zeros((1, 28, 28)), camera={"gain": 1.0})
    with pytest.raises(ValueError, match="contrast_threshold"):
        snx.data.saccade_events(np.zeros((1, 28, 28)), camera={"contrast_threshold": 0.0})


@pytest.fixture(scope="module")
def digits(data_root):
    mnist = snx.data.mnist_offline(data_root, train=False)
    return mnist.data.numpy()[:60], mnist.targets.numpy()[:60]


def test_saccade_events_statistics_are_close_to_n_mnist(digits):
    events = snx.data.saccade_events(digits[0])
    counts = np.array([len(e) for e in events])
    on = sum(int(e["p"].sum()) for e in events) / counts.sum()
    duration = np.mean([e["t"].max() - e["t"].min() for e in events])
    assert 4000 < counts.mean() < 6500 and 0.4 < on < 0.6 and 290_000 < duration < 315_000


def test_bin_encoding_round_trips_through_tonic(tmp_path):
    events = snx.data.saccade_events(np.pad(np.ones((1, 20, 20)), ((0, 0), (4, 4), (4, 4))))[0]
    path = tmp_path / "x.bin"
    path.write_bytes(synthetic._encode_bin(events))
    back = tonic.io.read_mnist_file(str(path), dtype=tonic.datasets.NMNIST.dtype)
    assert all(np.array_equal(back[f], events[f]) for f in ("x", "y", "t", "p"))
    reference = tmp_path / "ref.bin"
    write_nmnist_bin(reference, events["x"], events["y"], events["t"], events["p"])
    assert reference.read_bytes() == path.read_bytes()


class _FakeMNIST:
    def __init__(self, images, labels):
        self.data, self.targets = torch.from_numpy(images), torch.from_numpy(labels)

    def __len__(self):
        return len(self.data)


def test_nmnist_synthetic_layout_manifest_and_reuse(tmp_path, digits, monkeypatch):
    images, labels = digits
    calls = []

    def fake_mnist(root, train=True):
        calls.append(train)
        part = slice(0, 20) if train else slice(20, 30)
        return _FakeMNIST(images[part], labels[part])

    monkeypatch.setattr(synthetic, "mnist_offline", fake_mnist)
    tag = synthetic._settings_tag(0, synthetic._camera(None))
    stale = tmp_path / "nmnist_synthetic" / f".{tag}.tmp-999999999"  # a killed generation
    (stale / "NMNIST").mkdir(parents=True)
    train = snx.data.nmnist_synthetic(tmp_path, train=True, num_steps=8)
    assert not stale.exists()
    test = snx.data.nmnist_synthetic(tmp_path, train=False, num_steps=8, cache=False)
    assert len(calls) == 2  # generated once, for both splits
    assert (len(train), len(test)) == (20, 10)
    assert type(train.events).__name__ == "NMNIST"
    assert isinstance(train.events, tonic.datasets.NMNIST)
    base = tmp_path / "nmnist_synthetic" / tag
    bins = sorted((base / "NMNIST" / "Train").rglob("*.bin"))
    assert len(bins) == 20 and all(p.parent.name == str(int(labels[int(p.stem)])) for p in bins)
    manifest = json.loads((base / "synthetic.json").read_text())
    assert manifest["digits"] == {"Train": 20, "Test": 10} and manifest["seed"] == 0
    assert sorted(train.targets) == sorted(labels[:20].tolist())
    frames, label = train[0]
    assert frames.shape == (8, 2, 34, 34) and frames.dtype == torch.float32
    assert label == int(Path(train.events.data[0]).parent.name)
    recorded = snx.data.saccade_events(images[:30])[int(Path(test.events.data[0]).stem) + 20]
    assert np.array_equal(test.events[0][0]["t"], recorded["t"])
    pickle.loads(pickle.dumps(train))  # DataLoader workers may pickle the data set
    other = snx.data.nmnist_synthetic(tmp_path, train=False, num_steps=8,
                                      camera={"noise_rate": 0.0})
    assert len(calls) == 4 and other.events.location_on_system != test.events.location_on_system
    for path in bins[:3]:
        path.unlink()
    with pytest.raises(ValueError, match="holds 17 Train recordings, expected 20"):
        snx.data.nmnist_synthetic(tmp_path, train=True, num_steps=8)


def test_nmnist_synthetic_refuses_a_foreign_folder(tmp_path):
    tag = synthetic._settings_tag(0, synthetic._camera(None))
    (tmp_path / "nmnist_synthetic" / tag / "NMNIST").mkdir(parents=True)
    with pytest.raises(ValueError, match="no synthetic.json"):
        snx.data.nmnist_synthetic(tmp_path, num_steps=4)
