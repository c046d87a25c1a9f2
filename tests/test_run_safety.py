"""Runs never lie and never lose work: non-finite values, resume, overwrite, locking, messages.

The command-line tests run ``tests/cli_tiny.py`` (the real command line with the test recipes
known) in a subprocess and check its exit code and standard error.
"""

import dataclasses
import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from tiny import TINY, TINY_NAN, TINY_NAN_GRAD

from snntorch_ext.data.synthetic import _encode_bin
from snntorch_ext.engine import RunError, load_checkpoint, train
from snntorch_ext.engine.rundir import RunFolder

CLI = Path(__file__).with_name("cli_tiny.py")
REPO = Path(__file__).resolve().parents[1]


class Interrupt(Exception):
    pass


def _stop_after(n):
    def callback(epoch, row):
        if epoch == n:
            raise Interrupt

    return callback


def _files(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def _cli(*args, env=None, timeout=240):
    environ = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    done = subprocess.run([sys.executable, str(CLI), *map(str, args), "--no-progress"],
                          capture_output=True, text=True, env=environ, timeout=timeout)
    return done.returncode, done.stderr


def _assert_clean_exit_2(code, err, *words):
    assert code == 2, err
    assert "Traceback" not in err, err
    assert len(err.strip().splitlines()) <= 2, err
    for word in words:
        assert word in err, err


@pytest.fixture
def finished_run(tmp_path, data_root):
    out = tmp_path / "run"
    train(TINY, out=out, data_root=data_root, epochs=1, progress=False)
    return out


@pytest.fixture
def copied_data(tmp_path, data_root):
    """A private copy of the offline digits' IDX files, to damage."""
    train(TINY, out=tmp_path / "warm", data_root=data_root, epochs=1, progress=False)  # writes
    copy = tmp_path / "data"
    shutil.copytree(data_root / "mnist_offline", copy / "mnist_offline")
    return copy


# 1. non-finite values -------------------------------------------------------------------------
def test_nan_input_exits_2_and_keeps_the_checkpoints(tmp_path, data_root):
    out = tmp_path / "run"
    with pytest.raises(Interrupt):
        train(TINY_NAN, out=out, data_root=data_root, progress=False, callbacks=[_stop_after(1)])
    before = _files(out)
    code, err = _cli("train", "tiny-nan", "--resume", "--out", out, "--data-root", data_root,
                     env={"SNX_TEST_NAN": "1"})
    _assert_clean_exit_2(code, err, "epoch 2, batch", "NaN")
    assert _files(out) == before


def test_nan_gradient_names_the_layer_and_saves_nothing(tmp_path, data_root):
    with pytest.raises(RunError, match=r"epoch 1, batch 1: the gradient of network\.\S+ is NaN"):
        train(TINY_NAN_GRAD, out=tmp_path / "run", data_root=data_root, progress=False)
    assert not (tmp_path / "run" / "last.pt").exists()
    assert not (tmp_path / "run" / "best.pt").exists()


# 2. resume of a finished run -----------------------------------------------------------------
def test_resume_of_a_finished_run_changes_no_byte(finished_run, data_root, capsys):
    before = _files(finished_run)
    assert {"summary.json", "metrics.jsonl", "curves.png", "last.pt", "best.pt"} <= set(before)
    summary = train(TINY, out=finished_run, data_root=data_root, epochs=1, resume=True,
                    progress=False)
    assert "finished run" in capsys.readouterr().err
    assert _files(finished_run) == before
    assert summary == json.loads(before["summary.json"])
    assert summary["energy"] is not None and summary["layer_firing_rates"]


def test_resume_after_a_kill_behind_the_last_checkpoint_rebuilds_every_output(finished_run,
                                                                               data_root):
    before = _files(finished_run)
    (finished_run / "summary.json").unlink()
    (finished_run / "curves.png").unlink()
    (finished_run / "metrics.jsonl").write_text("")
    train(TINY, out=finished_run, data_root=data_root, epochs=1, resume=True, progress=False)
    assert _files(finished_run) == before


# 3. overwrite ---------------------------------------------------------------------------------
def test_failed_overwrite_leaves_the_old_run_intact(finished_run, data_root, tmp_path):
    before = _files(finished_run)
    bad = dataclasses.replace(TINY_NAN_GRAD, name="tiny")
    with pytest.raises(RunError, match="gradient"):
        train(bad, out=finished_run, data_root=data_root, epochs=1, overwrite=True,
              progress=False)
    assert _files(finished_run) == before
    (tmp_path / "not-a-folder").write_text("x")
    code, err = _cli("train", "tiny", "--epochs", "1", "--overwrite", "--out", finished_run,
                     "--data-root", tmp_path / "not-a-folder")
    _assert_clean_exit_2(code, err, "is a file")
    assert _files(finished_run) == before


def test_overwrite_deletes_the_old_run_once_replaced(finished_run, data_root):
    old = load_checkpoint(finished_run / "last.pt")
    train(TINY, out=finished_run, data_root=data_root, epochs=1, overwrite=True, seed=1,
          progress=False)
    assert load_checkpoint(finished_run / "last.pt")["config"]["seed"] == 1 != old["config"][
        "seed"]
    assert sorted(p.name for p in finished_run.iterdir() if p.name.startswith(".")) == []


def test_a_run_set_aside_by_a_killed_overwrite_is_put_back(finished_run):
    before = _files(finished_run)
    aside = finished_run / ".replaced-99999"
    aside.mkdir()
    for name in before:
        os.replace(finished_run / name, aside / name)
    (finished_run / "run.json").write_text("{}")  # the killed run had started
    with RunFolder(finished_run):
        pass
    assert _files(finished_run) == before


# 4. one run per folder ------------------------------------------------------------------------
def test_a_second_run_into_a_locked_folder_exits_2_naming_the_holder(tmp_path, data_root):
    out = tmp_path / "run"
    with RunFolder(out):
        code, err = _cli("train", "tiny", "--out", out, "--data-root", data_root)
        _assert_clean_exit_2(code, err, f"process {os.getpid()}", "in use")
        assert [p.name for p in out.iterdir()] == [".snntorch-ext.lock"]
    assert not out.exists()  # created by the holder, left empty: removed


def test_the_lock_is_exclusive_within_a_process_too(tmp_path):
    with RunFolder(tmp_path / "run"), pytest.raises(RunError, match="in use"):
        RunFolder(tmp_path / "run").__enter__()


# 5. every bad input is one clear line and exit code 2 ------------------------------------------
def test_truncated_idx_file(copied_data, tmp_path):
    images = copied_data / "mnist_offline" / "MNIST" / "raw" / "train-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[:1000])
    code, err = _cli("train", "tiny", "--out", tmp_path / "r", "--data-root", copied_data)
    _assert_clean_exit_2(code, err, "train-images-idx3-ubyte")
    assert not (tmp_path / "r").exists()


def test_malformed_idx_header(copied_data, tmp_path):
    labels = copied_data / "mnist_offline" / "MNIST" / "raw" / "train-labels-idx1-ubyte"
    data = bytearray(labels.read_bytes())
    data[:4] = b"\x00\x00\x09\x99"
    labels.write_bytes(bytes(data))
    code, err = _cli("train", "tiny", "--out", tmp_path / "r", "--data-root", copied_data)
    _assert_clean_exit_2(code, err, "cannot read")


def test_idx_labels_out_of_range_are_found_when_the_data_opens(copied_data, tmp_path):
    labels = copied_data / "mnist_offline" / "MNIST" / "raw" / "train-labels-idx1-ubyte"
    data = bytearray(labels.read_bytes())
    data[8 + 5] = 42
    labels.write_bytes(bytes(data))
    code, err = _cli("train", "tiny", "--out", tmp_path / "r", "--data-root", copied_data)
    _assert_clean_exit_2(code, err, "labels outside 0..9", "42")


def test_a_label_out_of_range_in_a_data_set_without_targets(tmp_path, data_root):
    recipe = dataclasses.replace(TINY, dataset="tiny:tiny_bad_label")
    with pytest.raises(RunError, match=r"training data holds a label outside 0\.\.9 \(12\)"):
        train(recipe, out=tmp_path / "run", data_root=data_root, progress=False)


def _write_nmnist(root, truncate):
    rng = np.random.default_rng(0)
    dtype = np.dtype([("x", np.int64), ("y", np.int64), ("p", np.int64), ("t", np.int64)])
    for split in ("Train", "Test"):
        for digit in range(10):
            folder = root / "NMNIST" / split / str(digit)
            folder.mkdir(parents=True)
            for i in range(2):
                events = np.zeros(200, dtype=dtype)
                events["x"], events["y"] = rng.integers(0, 34, 200), rng.integers(0, 34, 200)
                events["p"], events["t"] = rng.integers(0, 2, 200), np.arange(200) * 100
                (folder / f"{i:05d}.bin").write_bytes(_encode_bin(events))
    if truncate:
        path = root / "NMNIST" / "Train" / "3" / "00001.bin"
        path.write_bytes(path.read_bytes()[:-2])


def test_truncated_nmnist_file(tmp_path):
    _write_nmnist(tmp_path / "events", truncate=True)
    code, err = _cli("train", "tiny-events", "--out", tmp_path / "r", "--data-root",
                     tmp_path / "events")
    _assert_clean_exit_2(code, err, "00001.bin", "truncated")


def test_data_root_that_is_a_file(tmp_path):
    (tmp_path / "file").write_text("x")
    code, err = _cli("train", "tiny", "--out", tmp_path / "r", "--data-root", tmp_path / "file")
    _assert_clean_exit_2(code, err, "is a file")


def test_read_only_out(tmp_path, data_root):
    out = tmp_path / "ro"
    out.mkdir()
    out.chmod(0o555)
    env = {"SNX_TEST_FAULT": "eacces"} if os.geteuid() == 0 else {}  # root ignores modes
    code, err = _cli("train", "tiny", "--out", out, "--data-root", data_root, env=env)
    out.chmod(0o755)
    _assert_clean_exit_2(code, err, "permission denied")
    assert list(out.iterdir()) == []


def test_full_disk(tmp_path, data_root):
    code, err = _cli("train", "tiny", "--epochs", "1", "--out", tmp_path / "r", "--data-root",
                     data_root, env={"SNX_TEST_FAULT": "enospc"})
    _assert_clean_exit_2(code, err, "no space left")
    assert not list((tmp_path / "r").glob(".*tmp*"))


def test_checkpoint_without_rows(finished_run, data_root):
    ckpt = torch.load(finished_run / "last.pt", weights_only=True)
    del ckpt["rows"]
    torch.save(ckpt, finished_run / "last.pt")
    code, err = _cli("train", "tiny", "--epochs", "1", "--resume", "--out", finished_run,
                     "--data-root", data_root)
    _assert_clean_exit_2(code, err, "lacks rows", "--overwrite")


@pytest.mark.parametrize("delay", [1.0, 2.0, 3.0])  # in the imports, then in the set-up
def test_ctrl_c_in_the_first_seconds(tmp_path, delay):
    environ = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [sys.executable, "-m", "snntorch_ext", "train", "stbp-mnist", "--quick", "--out",
         str(tmp_path / "r"), "--no-progress"], stderr=subprocess.PIPE, text=True, env=environ)
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "Traceback" not in err and "interrupted" in err, err


# 6. smaller ----------------------------------------------------------------------------------
def test_resume_without_a_run_says_so(tmp_path, data_root, capsys):
    train(TINY, out=tmp_path / "run", data_root=data_root, epochs=1, resume=True,
          progress=False)
    assert "holds no run yet; starting a new one" in capsys.readouterr().err


def test_a_foreign_pickle_is_not_a_checkpoint_and_never_runs(finished_run, data_root, tmp_path):
    class Payload:
        def __reduce__(self):
            return (Path.touch, (tmp_path / "pwned",))

    (finished_run / "last.pt").write_bytes(pickle.dumps({"model": Payload(), "recipe": "tiny"},
                                                          protocol=2))
    with pytest.raises(RunError) as info:
        train(TINY, out=finished_run, data_root=data_root, epochs=1, resume=True,
              progress=False)
    assert "not a checkpoint of snntorch-ext" in str(info.value)
    assert "weights_only" not in str(info.value)
    assert not (tmp_path / "pwned").exists()


def test_mismatch_lists_only_the_differing_keys(finished_run, data_root):
    with pytest.raises(RunError) as info:
        train(TINY, out=finished_run, data_root=data_root, epochs=3, resume=True,
              progress=False)
    assert "recipe.epochs: 1 -> 3" in str(info.value)
    assert len(str(info.value)) < 250


def test_a_corrupt_run_json_is_rebuilt_from_last_pt(finished_run, data_root):
    before = _files(finished_run)
    (finished_run / "run.json").write_text("{broken")
    with pytest.raises(RunError, match="pass --resume"):
        train(TINY, out=finished_run, data_root=data_root, epochs=1, progress=False)
    train(TINY, out=finished_run, data_root=data_root, epochs=1, resume=True, progress=False)
    assert json.loads((finished_run / "run.json").read_text())["config"] == json.loads(
        before["run.json"])["config"]


def test_temporary_files_of_a_killed_run_are_removed(finished_run, data_root):
    (finished_run / ".last.pt.tmp-99999").write_bytes(b"half")
    train(TINY, out=finished_run, data_root=data_root, epochs=1, resume=True, progress=False)
    assert not list(finished_run.glob(".*tmp*"))


def test_no_warning_about_converting_a_tensor_that_requires_grad(tmp_path, data_root):
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*requires_grad=True to a scalar")
        train(TINY, out=tmp_path / "run", data_root=data_root, epochs=1, progress=False)
