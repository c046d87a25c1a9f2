"""The engine on CUDA: every precision, with and without compile (skipped without CUDA)."""

import dataclasses
import json
import math

import pytest
import torch
from tiny import TINY

from snntorch_ext.engine import load_checkpoint, train

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]


@pytest.mark.parametrize("precision, compile", [("32", False), ("bf16", False),
                                                ("fp16", False), ("bf16", True)])
def test_quick_run_on_cuda(tmp_path, data_root, precision, compile):
    summary = train(dataclasses.replace(TINY, epochs=1), out=tmp_path / "run",
                    data_root=data_root, device="cuda", precision=precision, compile=compile,
                    progress=False)
    assert summary["device"].startswith("cuda") and summary["precision"] == precision
    assert math.isfinite(summary["test_acc"]) and 0 < summary["firing_rate"] < 1
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run["precision"] == precision and run["compile"] is compile
    ckpt = load_checkpoint(tmp_path / "run" / "last.pt")
    assert bool(ckpt["scaler"]) is (precision == "fp16")
