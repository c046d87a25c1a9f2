"""Several processes (torchrun, gloo on the CPU) train as one: same weights, resumable."""

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import snntorch as snn
import torch
from tiny import TINY_DDP

import snntorch_ext as snx
from snntorch_ext.engine import RunError, load_checkpoint, train
from snntorch_ext.engine.dist import Dist
from snntorch_ext.engine.setup import ShardedBatches

CLI = Path(__file__).with_name("cli_tiny.py")
REPO = Path(__file__).resolve().parents[1]


# Seen once in about a dozen runs on a 2-core machine: a gloo worker aborts with this C++
# message; the launch is then repeated once, so that such an abort is not mistaken for a result.
GLOO_ABORT = "terminate called without an active exception"


def _torchrun(nproc, *args, env=None):
    environ = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", **(env or {})}
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node",
             str(nproc), str(CLI), "train", *map(str, args), "--device", "cpu",
             "--no-progress"],
            capture_output=True, text=True, env=environ, timeout=300)
        if GLOO_ABORT not in done.stdout + done.stderr:
            break
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


@pytest.mark.parametrize("size, batch, world", [(23, 6, 2), (20, 4, 4), (7, 6, 3)])
def test_shards_cover_every_item_once_and_make_up_the_global_batches(size, batch, world):
    test = [list(ShardedBatches(size, batch, Dist(rank=r, world=world), seed=None))
            for r in range(world)]
    assert sorted(i for shard in test for b in shard for i in b) == list(range(size))
    single = list(ShardedBatches(size, batch, Dist(), seed=5))
    train_shards = [ShardedBatches(size, batch, Dist(rank=r, world=world), seed=5)
                    for r in range(world)]
    steps = [list(s) for s in train_shards]
    assert len({len(s) for s in steps}) == 1  # every process makes the same number of steps
    for k, whole in enumerate(single[:len(steps[0])]):
        assert sorted(i for s in steps for i in s[k]) == sorted(whole)


def _asf_worker(rank, world, port, x, queue):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.distributed.init_process_group("gloo", rank=rank, world_size=world)
    model = _asf_model()
    model(x.chunk(world, dim=1)[rank])
    queue.put((rank, model.ratios.tolist()))  # plain numbers: this process ends first
    torch.distributed.destroy_process_group()


def _asf_model():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(6, 8), snn.Leaky(beta=1.0, init_hidden=True,
                                                                reset_mechanism="subtract"),
                              torch.nn.Linear(8, 3))
    return snx.ASF(net, num_steps=5).train()


def test_asf_ratios_are_summed_over_processes(tmp_path):
    x = torch.rand(5, 8, 6, generator=torch.Generator().manual_seed(1)) * 2
    expected = _asf_model()
    expected(x)
    context = torch.multiprocessing.get_context("spawn")
    queue = context.SimpleQueue()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    torch.multiprocessing.start_processes(_asf_worker, args=(2, port, x, queue), nprocs=2,
                                          start_method="spawn")
    ratios = [queue.get() for _ in range(2)]
    for _, value in ratios:
        torch.testing.assert_close(torch.tensor(value), expected.ratios)
    assert not torch.equal(expected.ratios, torch.ones_like(expected.ratios))
