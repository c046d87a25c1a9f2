"""Several processes (torchrun, gloo on the CPU) train as one: same weights, resumable."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from tiny import TINY_DDP

from snntorch_ext.engine import RunError, load_checkpoint, train

CLI = Path(__file__).with_name("cli_tiny.py")
REPO = Path(__file__).resolve().parents[1]


def _torchrun(nproc, *args, env=None):
    environ = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", **(env or {})}
    done = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node",
         str(nproc), str(CLI), "train", *map(str, args), "--device", "cpu", "--no-progress"],
        capture_output=True, text=True, env=environ, timeout=300)
    return done.returncode, done.stdout + done.stderr


def _assert_same_weights(a, b):
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=1e-4, atol=1e-5, msg=key)


def test_two_processes_match_one_and_resume_on_any_number(tmp_path, data_root):
    train(TINY_DDP, out=tmp_path / "one", data_root=data_root, device="cpu", progress=False)
    one = load_checkpoint(tmp_path / "one" / "last.pt")

    two = tmp_path / "two"
    code, log = _torchrun(2, "tiny-ddp", "--out", two, "--data-root", data_root,
                          env={"SNX_TEST_STOP_AFTER": "1"})
    assert code != 0 and "interrupted" in log, log
    assert load_checkpoint(two / "last.pt")["epoch"] == 1
    shutil.copytree(two, tmp_path / "two-then-one")

    code, log = _torchrun(2, "tiny-ddp", "--resume", "--out", two, "--data-root", data_root)
    assert code == 0, log
    assert log.count("test accuracy") == 1  # only the first process reports
    resumed = load_checkpoint(two / "last.pt")
    assert resumed["settings"]["world_size"] == 2
    _assert_same_weights(resumed["model"], one["model"])
    for a, b in zip(resumed["rows"], one["rows"], strict=True):
        assert a["test_acc"] == pytest.approx(b["test_acc"], abs=0.011)  # 100 test digits
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-4)

    train(TINY_DDP, out=tmp_path / "two-then-one", data_root=data_root, device="cpu",
          resume=True, progress=False)
    _assert_same_weights(load_checkpoint(tmp_path / "two-then-one" / "last.pt")["model"],
                         one["model"])


def test_batch_not_divisible_by_the_processes(tmp_path, data_root):
    code, log = _torchrun(2, "tiny-ddp", "--batch-size", "21", "--out", tmp_path / "r",
                          "--data-root", data_root)
    assert code != 0 and "exitcode  : 2" in log, log  # torchrun reports the workers' code
    assert "not divisible by the 2 processes" in log, log
    assert "snntorch_ext/" not in log, log  # torchrun's own report, but no traceback of ours


def test_fp16_on_the_cpu_is_refused(tmp_path):
    with pytest.raises(RunError, match="fp16 needs CUDA"):
        train(TINY_DDP, out=tmp_path / "r", device="cpu", precision="fp16")
    assert not (tmp_path / "r").exists()
