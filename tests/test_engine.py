"""The training engine: outputs, exact resume, schedules."""

import dataclasses
import json
import math

import pytest
import torch
from tiny import TINY

import snntorch_ext as snx
from snntorch_ext.engine import RunError, load_checkpoint, lr_factor, train


def _train(out, data_root, **kwargs):
    return train(TINY, out=out, data_root=data_root, progress=False, **kwargs)


class Interrupt(Exception):
    pass


def _interrupt_after(n):
    def callback(epoch, row):
        if epoch == n:
            raise Interrupt

    return callback


def test_run_writes_metrics_summary_plot_checkpoints(tmp_path, data_root):
    summary = _train(tmp_path / "run", data_root)
    run = tmp_path / "run"
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2]
    assert set(rows[0]) == {"epoch", "train_loss", "train_acc", "test_acc", "firing_rate", "lr",
                            "seconds"}
    assert 0.0 < rows[0]["firing_rate"] < 1.0
    assert (run / "metrics.csv").read_text().splitlines()[0].startswith("epoch,train_loss")
    saved = json.loads((run / "summary.json").read_text())
    assert saved == summary
    for key in ("recipe", "quick", "test_acc", "best_test_acc", "epochs", "seconds", "device",
                "versions"):
        assert key in saved
    assert saved["epochs"] == 2 and saved["best_test_acc"] >= saved["test_acc"]
    assert saved["energy"]["ratio"] > 1 and saved["energy"]["num_steps"] == TINY.num_steps
    assert (run / "curves.png").read_bytes()[:4] == b"\x89PNG"
    ckpt = load_checkpoint(run / "last.pt")
    assert ckpt["epoch"] == 2 and ckpt["recipe"] == "tiny"
    assert load_checkpoint(run / "best.pt")["test_acc"] == saved["best_test_acc"]
    assert not list(run.glob(".*tmp*"))  # no temporary files left behind


def test_resume_is_bit_identical(tmp_path, data_root):
    _train(tmp_path / "straight", data_root)
    with pytest.raises(Interrupt):
        _train(tmp_path / "resumed", data_root, callbacks=[_interrupt_after(1)])
    assert load_checkpoint(tmp_path / "resumed" / "last.pt")["epoch"] == 1
    summary = _train(tmp_path / "resumed", data_root, resume=True)
    assert summary["epochs"] == 2
    a = load_checkpoint(tmp_path / "straight" / "last.pt")
    b = load_checkpoint(tmp_path / "resumed" / "last.pt")
    assert a["model"].keys() == b["model"].keys()
    for key in a["model"]:
        assert torch.equal(a["model"][key], b["model"][key]), key
    rows = (tmp_path / "resumed" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(r)["epoch"] for r in rows] == [1, 2]


def test_resume_of_a_finished_run_trains_nothing(tmp_path, data_root):
    first = _train(tmp_path / "run", data_root)
    again = _train(tmp_path / "run", data_root, resume=True)
    assert again["test_acc"] == first["test_acc"] and again["epochs"] == 2


def test_learns_something(tmp_path, data_root):
    recipe = dataclasses.replace(TINY, dataset_kwargs={"n_train": 1000})
    summary = train(recipe, out=tmp_path / "run", data_root=data_root, epochs=3, progress=False)
    assert summary["best_test_acc"] > 0.5  # 10 classes: chance is 0.1


def test_bad_overrides(tmp_path, data_root):
    with pytest.raises(RunError, match="epochs"):
        _train(tmp_path / "run", data_root, epochs=0)
    with pytest.raises(RunError, match="unknown recipe 'nope'.*stbp-mnist"):
        train("nope", out=tmp_path / "x")


@pytest.mark.parametrize("epoch, expected", [(0, 0.2), (4, 1.0), (5, 1.0), (304, 0.0)])
def test_cosine_with_warmup(epoch, expected):
    factor = lr_factor("cosine", {"warmup_epochs": 5}, epoch, 305)
    assert factor == pytest.approx(expected, abs=1e-4)


def test_cosine_midpoint_and_step():
    assert lr_factor("cosine", {}, 50, 100) == pytest.approx(0.5)
    assert lr_factor("step", {"milestones": [25, 50], "gamma": 0.2}, 30, 125) == pytest.approx(0.2)
    assert lr_factor("step", {"milestones": [25, 50], "gamma": 0.2}, 60, 125) == pytest.approx(0.04)
    assert lr_factor("constant", {}, 7, 9) == 1.0
    with pytest.raises(ValueError, match="schedule"):
        lr_factor("exp", {}, 0, 1)


def test_build_model_uses_recipe_neuron():
    model = snx.engine.build_model(TINY, in_channels=1)
    neurons = snx.utils.neurons(model)
    assert len(neurons) == 4
    assert all(n.init_hidden and math.isclose(float(n.beta), 0.9, rel_tol=1e-6) for n in neurons)
    assert repr(neurons[0].spike_grad) == "rectangular(width=1.0)"
