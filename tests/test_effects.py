"""The effect protocols: validation split, paired test, tuning, resume, tables and docs page."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import TensorDataset

import snntorch_ext as snx
from snntorch_ext.cli import main
from snntorch_ext.data import validation_split
from snntorch_ext.reproduce import PROTOCOLS
from snntorch_ext.reproduce.effects import (
    Arm,
    Protocol,
    arm_recipe,
    docs_page,
    load_results,
    paired,
    run_protocol,
    summarise,
)

ROOT = Path(__file__).resolve().parents[1]


class _Labelled(TensorDataset):
    def __init__(self, labels: list[int]) -> None:
        super().__init__(torch.arange(len(labels), dtype=torch.float32)[:, None],
                         torch.tensor(labels))
        self.targets = labels


def _factory(root, train=True, download=False, *, opened=None):
    if opened is not None:
        opened.append(train)
    return _Labelled([i % 4 for i in range(40)] if train else [0, 1, 2, 3])


def test_validation_split_is_balanced_disjoint_and_never_opens_the_test_split():
    opened: list[bool] = []
    fit = validation_split("x", train=True, source=_factory, val_size=8, opened=opened)
    val = validation_split("x", train=False, source=_factory, val_size=8, opened=opened)
    assert opened == [True, True]  # the validation phase never reads the test split
    assert len(fit) == 32 and len(val) == 8
    assert set(fit.indices).isdisjoint(val.indices)
    assert sorted([*fit.indices, *val.indices]) == list(range(40))
    assert np.bincount([val.dataset.targets[i] for i in val.indices]).tolist() == [2, 2, 2, 2]
    again = validation_split("x", train=False, source=_factory, val_size=8)
    assert again.indices == val.indices  # the same split every time
    test = validation_split("x", train=False, source=_factory, val_size=8,
                            evaluate_on="test", opened=opened)
    assert opened[-1] is False and len(test) == 4


def test_validation_split_wraps_a_subset_and_rejects_bad_arguments():
    inner = snx.data.balanced_subset("x", train=True, dataset=_factory, train_size=20,
                                     test_size=4)
    fit = validation_split("x", train=True, source=lambda *a, **k: inner, val_size=4)
    assert len(fit) == 16
    with pytest.raises(ValueError, match="val_size"):
        validation_split("x", source=_factory, val_size=40)
    with pytest.raises(ValueError, match="val_size"):
        validation_split("x", source=_factory, val_size=0)
    with pytest.raises(ValueError, match="evaluate_on"):
        validation_split("x", source=_factory, val_size=4, evaluate_on="train")


def test_paired_t_and_verdicts_against_a_hand_computation():
    result = paired([0.80, 0.90, 0.85], [0.85, 0.97, 0.88])  # d = 0.05, 0.07, 0.03
    assert result["mean"] == pytest.approx(0.05)
    assert result["sd"] == pytest.approx(0.02)
    assert result["t"] == pytest.approx(0.05 / (0.02 / math.sqrt(3)))  # 4.33 > 2.920
    assert result["verdict"] == "reproduced"
    assert paired([0.85, 0.97, 0.88], [0.80, 0.90, 0.85])["verdict"] == "reversed"
    noisy = paired([0.80, 0.90, 0.85], [0.85, 0.88, 0.86])  # d = 0.05, -0.02, 0.01: t = 0.62
    assert noisy["t"] == pytest.approx((0.04 / 3) / (np.std([0.05, -0.02, 0.01], ddof=1)
                                                     / math.sqrt(3)))
    assert noisy["verdict"] == "inconclusive"
    assert paired([0.9], [0.95])["verdict"] == "inconclusive"  # one seed: no test
    with pytest.raises(ValueError, match="as many"):
        paired([0.9, 0.8], [0.95])


def _protocol(lrs=(1e-3, 3e-3)) -> Protocol:
    return Protocol(
        key="toy", paper="bpsta", claim="b beats a", recipe="bpsta-mnist",
        arms=(Arm("a", {"neuron_kwargs": {"beta": 0.9, "threshold": 0.5}}),
              Arm("b", {}, "bpsta-ablation-bpsta")),
        claims=(("a", "b"),), lrs=lrs, settings={"epochs": 2}, seeds=(0, 1, 2), val_size=100)


def test_arm_recipe_tunes_on_validation_tests_on_test_and_replaces_the_arm_fields():
    protocol = _protocol()
    tune = arm_recipe(protocol, protocol.arms[0], 3e-3, "tune")
    test = arm_recipe(protocol, protocol.arms[0], 3e-3, "test")
    assert tune.dataset == test.dataset == "snntorch_ext.data:validation_split"
    assert tune.dataset_kwargs["evaluate_on"] == "validation"
    assert test.dataset_kwargs["evaluate_on"] == "test"
    assert tune.dataset_kwargs["source"] == snx.recipes.get("bpsta-mnist").quick["dataset"]
    assert tune.neuron_kwargs == {"beta": 0.9, "threshold": 0.5}  # replaced, not merged
    assert tune.optimizer_kwargs == {"lr": 3e-3, "weight_decay": 1e-4}
    assert tune.epochs == 2


class _FakeTrain:
    """Validation accuracy peaks at lr 3e-3 for arm b and 1e-3 for arm a; b beats a by 2-4
    points on every seed."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, float, int]] = []

    def __call__(self, recipe, *, seed, out, overwrite, progress, device):
        phase = "tune" if recipe.dataset_kwargs["evaluate_on"] == "validation" else "test"
        arm, lr = recipe.name.rsplit("-", 1)[1], recipe.optimizer_kwargs["lr"]
        self.calls.append((arm, phase, lr, seed))
        best = 3e-3 if arm == "b" else 1e-3
        acc = 0.8 + (0.02 + 0.01 * seed if arm == "b" else 0.0) - (0.1 if lr != best else 0)
        return {"test_acc": acc, "best_test_acc": acc, "epochs": recipe.epochs}


def test_run_protocol_tunes_each_arm_records_every_run_and_resumes(tmp_path):
    results, train = tmp_path / "effects.json", _FakeTrain()
    protocol = _protocol()
    records = run_protocol(protocol, results, tmp_path / "runs", train=train, log=lambda _: None)
    assert len(records) == protocol.runs() == 10
    tests = [(arm, lr, seed) for arm, phase, lr, seed in train.calls if phase == "test"]
    assert tests == [("a", 1e-3, 0), ("a", 1e-3, 1), ("a", 1e-3, 2),
                     ("b", 3e-3, 0), ("b", 3e-3, 1), ("b", 3e-3, 2)]
    assert all(seed == 0 for _, phase, _, seed in train.calls if phase == "tune")
    again = _FakeTrain()
    run_protocol(protocol, results, tmp_path / "runs", train=again, log=lambda _: None)
    assert again.calls == []  # everything was recorded: nothing is trained twice
    summary = summarise(protocol, load_results(results))
    assert summary["arms"]["b"]["lr"] == 3e-3
    assert summary["arms"]["b"]["mean"] == pytest.approx(0.83)
    assert summary["arms"]["b"]["paper"] == snx.recipes.get("bpsta-ablation-bpsta").paper_value
    assert summary["claims"][0]["verdict"] == "reproduced"
    changed = Protocol(**{**protocol.__dict__, "settings": {"epochs": 3}})
    assert summarise(changed, load_results(results))["arms"]["b"]["n"] == 0  # stale settings


def test_a_single_learning_rate_is_not_tuned(tmp_path):
    train = _FakeTrain()
    run_protocol(_protocol(lrs=(1e-3,)), tmp_path / "e.json", tmp_path, train=train,
                 seeds=[0], log=lambda _: None)
    assert [phase for _, phase, _, _ in train.calls] == ["test", "test"]


def test_every_protocol_builds_its_arms_from_the_recipes():
    for protocol in PROTOCOLS.values():
        assert {a for pair in protocol.claims for a in pair} <= {a.name for a in protocol.arms}
        for arm in protocol.arms:
            recipe = arm_recipe(protocol, arm, protocol.lrs[0], "test")
            assert recipe.dataset_kwargs["val_size"] == protocol.val_size
            assert arm.paper_recipe is None or arm.paper_value() is not None


def test_cli_lists_protocols_and_refuses_an_unknown_one(capsys, tmp_path):
    assert main(["effects"]) == 0
    assert "bpsta-digits" in capsys.readouterr().out
    assert main(["effects", "nope", "--runs-dir", str(tmp_path)]) == 2
    assert "unknown protocol 'nope'" in capsys.readouterr().err
    assert main(["effects", "asf-vs-bptt", "--table", "--runs-dir", str(tmp_path)]) == 0
    assert "BPTT" in capsys.readouterr().out


def test_docs_page_is_current():
    records = load_results(ROOT / "docs" / "results" / "effects.json")
    assert (ROOT / "docs" / "effects.rst").read_text() == docs_page(records), (
        "docs/effects.rst is stale: run `snntorch-ext effects --docs docs/effects.rst "
        "--results docs/results/effects.json`")


def test_results_file_errors_name_the_file(tmp_path):
    bad = tmp_path / "effects.json"
    bad.write_text("{")
    with pytest.raises(ValueError, match="effects.json"):
        load_results(bad)
    bad.write_text(json.dumps({"runs": 3}))
    with pytest.raises(ValueError, match="runs"):
        load_results(bad)
