"""BPSA+BPTA on the CPU: why a quick recipe learns or not, and the Table 8 ablation with seeds.

Two sub-commands, both appending every run to ``benchmarks/results/effects_bpsta.json``:

``diagnose RECIPE [--set FIELD=JSON ...]``
    Trains the recipe's quick variant (fields overridden with ``--set``, e.g.
    ``--set num_steps=16 --set 'neuron_kwargs={"alpha": 0.2}'``) and, before training and after
    every ``--probe-every`` batches, measures on a fixed probe set of training samples, for every
    spiking layer: the firing rate, the fraction of neurons that stay silent over all ``T`` steps
    of a sample (averaged over samples: with BPSA, whose :math:`\\partial o / \\partial u` is
    :math:`1/u` only at a spike, such a neuron passes no gradient for that sample) and the
    fraction that is silent for every probe sample (dead). Test accuracy after every epoch.

``ablation RECIPE --arms baseline bpsa bpsta --seeds 0 1 2 --lrs 3e-4 1e-3 3e-3``
    The Table 8 protocol: for each arm (the neuron's ``spatial``/``temporal`` switches of the
    recipe's rule table), the learning rate is chosen on a validation split (the last
    ``--val`` training samples, never the test set) with seed 0, then the arm is trained with
    that rate for every seed on the rest of the training set and tested; the summary gives
    mean +- sd per arm and the paired differences (same seed, hence same initialisation of the
    shared layers and same batch order) with a paired t statistic.

``record-cli OUT --cpu-s S --wall-s S``
    Appends a finished ``snntorch-ext train`` run (its ``summary.json`` and per-epoch test
    accuracy) with the CPU and wall seconds measured around it.

``table``
    Writes ``benchmarks/results/effects_bpsta.md``, a table of every recorded run.

Each run records its settings, final and best accuracy, wall seconds and CPU seconds of this
process (``time.process_time``; the machine may be shared, so wall time alone misleads).

Run, e.g.::

    PYTHONPATH=. python benchmarks/effects_bpsta.py diagnose bpsta-nmnist
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import math
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset, Subset

from snntorch_ext.engine import build_model, default_data_root, lr_factor
from snntorch_ext.engine.trainer import _datasets
from snntorch_ext.metrics import neurons
from snntorch_ext.recipes import Recipe, get, resolve
from snntorch_ext.recipes.bpsta import RULES

RESULTS = Path(__file__).resolve().parent / "results" / "effects_bpsta.json"


class SilentNeurons:
    """Forward hooks that count, per spiking layer, the spikes of every neuron of every sample."""

    def __init__(self, net: torch.nn.Module) -> None:
        names = {module: name for name, module in net.named_modules()}
        self.layers = [(names[m], m) for m in neurons(net)]
        self.counts: dict[str, list[torch.Tensor]] = {name: [] for name, _ in self.layers}
        self._steps: dict[str, torch.Tensor | None] = {name: None for name, _ in self.layers}
        self._handles: list = []

    def __enter__(self) -> SilentNeurons:
        for name, module in self.layers:
            self._handles.append(module.register_forward_hook(self._hook(name)))
        return self

    def __exit__(self, *exc: object) -> None:
        for handle in self._handles:
            handle.remove()

    def _hook(self, name: str) -> Callable:
        def hook(module: torch.nn.Module, inputs: tuple, output: Any) -> None:
            spk = (output[0] if isinstance(output, tuple) else output).detach()
            total = self._steps[name]
            self._steps[name] = spk.clone() if total is None else total + spk
        return hook

    def end_batch(self) -> None:
        """Close one forward pass over all ``T`` steps: keep its per-sample spike counts."""
        for name in self.counts:
            if self._steps[name] is not None:
                self.counts[name].append(self._steps[name].flatten(1))
            self._steps[name] = None

    def summary(self, num_steps: int) -> dict[str, dict[str, float]]:
        out = {}
        for name, chunks in self.counts.items():
            counts = torch.cat(chunks)  # [samples, neurons]
            out[name] = {"rate": float(counts.mean() / num_steps),
                         "silent_per_sample": float((counts == 0).float().mean()),
                         "dead": float((counts.sum(0) == 0).float().mean()),
                         "neurons": counts.shape[1]}
        return out


def _probe(model: torch.nn.Module, probe: torch.Tensor, recipe: Recipe,
           encode: Callable) -> dict[str, dict[str, float]]:
    """Spike counts as in training (batch statistics in batch norm); the model is unchanged."""
    saved = {key: value.clone() for key, value in model.state_dict().items()}
    model.train()
    with torch.no_grad(), SilentNeurons(model) as silent:
        for x in probe.split(100):
            model(encode(x, recipe.num_steps, **recipe.encoder_kwargs))
            silent.end_batch()
    model.load_state_dict(saved)
    return silent.summary(recipe.num_steps)


def _accuracy(model: torch.nn.Module, loader: DataLoader, recipe: Recipe,
              encode: Callable, predict: Callable) -> float:
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for x, labels in loader:
            out = model(encode(x, recipe.num_steps, **recipe.encoder_kwargs))
            correct += int((predict(out).argmax(-1) == labels).sum())
            total += labels.numel()
    return correct / total


def run(recipe: Recipe, train_set: Dataset, test_set: Dataset, seed: int,
        probe_every: int = 0) -> dict[str, Any]:
    """Train ``recipe`` as the engine does (same schedule and loss) and test after every epoch."""
    torch.manual_seed(seed)
    encode, predict = resolve(recipe.encoder), resolve(recipe.predict)
    in_channels = encode(train_set[0][0].unsqueeze(0), recipe.num_steps,
                         **recipe.encoder_kwargs).shape[2]
    model = build_model(recipe, in_channels)
    optimizer = resolve(recipe.optimizer)(model.parameters(), **recipe.optimizer_kwargs)
    base_lrs = [group["lr"] for group in optimizer.param_groups]
    loss_fn = resolve(recipe.loss)(**recipe.loss_kwargs)
    generator = torch.Generator().manual_seed(seed)
    loader = DataLoader(train_set, batch_size=recipe.batch_size, shuffle=True,
                        generator=generator)
    test_loader = DataLoader(test_set, batch_size=250)
    probe = torch.stack([train_set[i][0] for i in range(300)]) if probe_every else None
    probes, epochs = [], []
    if probe is not None:
        probes.append({"batch": 0, "layers": _probe(model, probe, recipe, encode)})
    cpu0, wall0, step = time.process_time(), time.perf_counter(), 0
    for epoch in range(recipe.epochs):
        factor = lr_factor(recipe.schedule, recipe.schedule_kwargs, epoch, recipe.epochs)
        for group, base in zip(optimizer.param_groups, base_lrs, strict=True):
            group["lr"] = base * factor
        model.train()
        loss_sum = seen = 0
        for x, labels in loader:
            out = model(encode(x, recipe.num_steps, **recipe.encoder_kwargs), labels)
            loss = loss_fn(out, labels)
            optimizer.zero_grad(set_to_none=True)
            loss.sum().backward()
            optimizer.step()
            loss_sum += float(loss.detach().sum()) * labels.numel()
            seen += labels.numel()
            step += 1
            if probe is not None and step % probe_every == 0:
                probes.append({"batch": step, "layers": _probe(model, probe, recipe, encode)})
        acc = _accuracy(model, test_loader, recipe, encode, predict)
        epochs.append({"epoch": epoch + 1, "train_loss": loss_sum / seen, "acc": acc,
                       "cpu_s": time.process_time() - cpu0,
                       "wall_s": time.perf_counter() - wall0})
        print(f"  epoch {epoch + 1}: loss {loss_sum / seen:.4f} acc {acc:.4f} "
              f"cpu {epochs[-1]['cpu_s']:.0f}s wall {epochs[-1]['wall_s']:.0f}s", flush=True)
    return {"epochs": epochs, "final_acc": epochs[-1]["acc"],
            "best_acc": max(e["acc"] for e in epochs), "cpu_s": epochs[-1]["cpu_s"],
            "wall_s": epochs[-1]["wall_s"], "probes": probes}


def _overrides(pairs: Sequence[str]) -> dict[str, Any]:
    out = {}
    for pair in pairs:
        field, sep, value = pair.partition("=")
        if not sep:
            raise ValueError(f"--set must look like FIELD=JSON, got {pair!r}")
        out[field] = json.loads(value)
    return out


def _apply(recipe: Recipe, overrides: dict[str, Any]) -> Recipe:
    """``recipe`` with ``overrides``; dict-valued fields are merged, not replaced."""
    merged = {key: ({**getattr(recipe, key), **value} if isinstance(value, dict) else value)
              for key, value in overrides.items()}
    return dataclasses.replace(recipe, **merged)


def _record(entry: dict[str, Any]) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    runs = json.loads(RESULTS.read_text()) if RESULTS.exists() else []
    runs.append(entry)
    RESULTS.write_text(json.dumps(runs, indent=1) + "\n")


def _data(recipe: Recipe) -> tuple[Dataset, Dataset]:
    return _datasets(recipe, default_data_root(), download=False)


def diagnose(args: argparse.Namespace) -> None:
    overrides = _overrides(args.set)
    recipe = _apply(get(args.recipe).quick_variant(), overrides)
    train_set, test_set = _data(recipe)
    if args.limit:
        train_set = Subset(train_set, range(args.limit))
    print(f"{args.recipe} quick {overrides}", flush=True)
    result = run(recipe, train_set, test_set, args.seed, args.probe_every)
    for probe in result["probes"]:
        cells = " ".join(f"{name}:{v['silent_per_sample']:.2f}/{v['dead']:.2f}/{v['rate']:.3f}"
                         for name, v in probe["layers"].items())
        print(f"  batch {probe['batch']:4d} silent/dead/rate {cells}")
    _record({"kind": "diagnose", "recipe": args.recipe, "quick": True, "overrides": overrides,
             "seed": args.seed, "limit": args.limit, "note": args.note,
             "date": time.strftime("%Y-%m-%d %H:%M"),
             **result})


def record_cli(args: argparse.Namespace) -> None:
    summary = json.loads((args.out / "summary.json").read_text())
    rows = [json.loads(line) for line in (args.out / "metrics.jsonl").read_text().splitlines()]
    _record({"kind": "cli", "recipe": summary["recipe"], "quick": summary["quick"],
             "seed": summary["seed"], "note": args.note, "date": time.strftime("%Y-%m-%d %H:%M"),
             "final_acc": summary["test_acc"], "best_acc": summary["best_test_acc"],
             "accs": [row["test_acc"] for row in rows], "epochs_run": summary["epochs"],
             "cpu_s": args.cpu_s, "wall_s": args.wall_s,
             "engine_epoch_seconds": summary["seconds"]})


def _silent_cells(layers: dict[str, dict[str, float]]) -> str:
    return ", ".join(f"{v['dead']:.2f}" for v in layers.values())


def table(_: argparse.Namespace) -> None:
    """Write ``effects_bpsta.md``: every recorded run, from the JSON file."""
    runs = json.loads(RESULTS.read_text())
    lines = ["# BPSA+BPTA on the CPU: recorded runs", "",
             f"Written by `benchmarks/effects_bpsta.py table` from `{RESULTS.name}`. "
             "Accuracy on the 1,000 test samples; CPU = user + sys seconds of the process. "
             "Dead = fraction of a spiking layer's neurons silent on all 300 probe samples "
             "(layers in network order), at the start and at the end of training.", "",
             "| kind | recipe | settings | seed | acc per epoch | final | best | CPU s | wall s "
             "| dead at start | dead at end | note |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in runs:
        if r["kind"] == "ablation-summary":
            continue
        accs = r.get("accs") or [e["acc"] for e in r.get("epochs", [])]
        settings = json.dumps(r.get("overrides", {})) + (f" lr={r['lr']}" if "lr" in r else "")
        probes = r.get("probes") or []
        start = _silent_cells(probes[0]["layers"]) if probes else ""
        end = _silent_cells(probes[-1]["layers"]) if probes else ""
        lines.append(f"| {r['kind']} | {r['recipe']} | {settings} | {r.get('seed', '')} | "
                     f"{' '.join(f'{a:.3f}' for a in accs)} | {r['final_acc']:.3f} | "
                     f"{r['best_acc']:.3f} | {r['cpu_s']:.0f} | {r['wall_s']:.0f} | {start} | "
                     f"{end} | {r.get('note', '')} |")
    RESULTS.with_suffix(".md").write_text("\n".join(lines) + "\n")


def _paired(a: list[float], b: list[float]) -> dict[str, float]:
    diffs = [y - x for x, y in zip(a, b, strict=True)]
    mean = statistics.fmean(diffs)
    sd = statistics.stdev(diffs) if len(diffs) > 1 else None
    t = mean / (sd / math.sqrt(len(diffs))) if sd else None  # None: undefined (JSON null)
    return {"mean_diff": mean, "sd_diff": sd, "t": t, "n": len(diffs)}


def ablation(args: argparse.Namespace) -> None:
    overrides = _overrides(args.set)
    base = _apply(get(args.recipe).quick_variant(), overrides)
    train_full, test_set = _data(base)
    if args.limit:
        train_full = Subset(train_full, range(args.limit))
    n = len(train_full)
    fit, val = Subset(train_full, range(n - args.val)), Subset(train_full, range(n - args.val, n))
    summary: dict[str, Any] = {"arms": {}}
    for arm in args.arms:
        rule = RULES[arm]
        recipe = dataclasses.replace(
            base, neuron_kwargs={**base.neuron_kwargs, **rule["neuron_kwargs"]},
            spike_grad=rule.get("spike_grad"), spike_grad_kwargs=rule.get("spike_grad_kwargs", {}))
        tuning = {}
        for lr in args.lrs:
            tuned = _apply(recipe, {"optimizer_kwargs": {"lr": lr}})
            print(f"{arm} lr {lr} (validation)", flush=True)
            tuning[lr] = run(tuned, fit, val, seed=0)
            _record({"kind": "ablation-tune", "recipe": args.recipe, "arm": arm, "lr": lr,
                     "overrides": overrides, "val": args.val, "limit": args.limit,
                     **tuning[lr]})
        lr = max(tuning, key=lambda k: tuning[k]["final_acc"])
        accs = []
        for seed in args.seeds:
            print(f"{arm} lr {lr} seed {seed} (test)", flush=True)
            result = run(_apply(recipe, {"optimizer_kwargs": {"lr": lr}}), fit, test_set, seed)
            _record({"kind": "ablation", "recipe": args.recipe, "arm": arm, "lr": lr,
                     "seed": seed, "overrides": overrides, "val": args.val,
                     "limit": args.limit, **result})
            accs.append(result["final_acc"])
        summary["arms"][arm] = {"lr": lr, "accs": accs, "mean": statistics.fmean(accs),
                                "sd": statistics.stdev(accs) if len(accs) > 1 else None}
    arms = list(summary["arms"])
    summary["paired"] = {f"{b} - {a}": _paired(summary["arms"][a]["accs"],
                                               summary["arms"][b]["accs"])
                         for a, b in itertools.combinations(arms, 2)}
    _record({"kind": "ablation-summary", "recipe": args.recipe, "overrides": overrides,
             "seeds": args.seeds, "lrs": args.lrs, "val": args.val, "limit": args.limit,
             **summary})
    print(json.dumps(summary, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("diagnose")
    d.add_argument("recipe")
    d.add_argument("--set", action="append", default=[], metavar="FIELD=JSON")
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--probe-every", type=int, default=25)
    d.add_argument("--note", default="")
    d.add_argument("--limit", type=int, default=0, help="train on the first LIMIT samples only")
    a = sub.add_parser("ablation")
    a.add_argument("recipe")
    a.add_argument("--set", action="append", default=[], metavar="FIELD=JSON")
    a.add_argument("--arms", nargs="+", default=["baseline", "bpsa", "bpsta"])
    a.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    a.add_argument("--lrs", nargs="+", type=float, default=[3e-4, 1e-3, 3e-3])
    a.add_argument("--val", type=int, default=500)
    a.add_argument("--limit", type=int, default=0, help="use the first LIMIT training samples")
    c = sub.add_parser("record-cli", help="append a finished `snntorch-ext train` run")
    c.add_argument("out", type=Path, help="the run's --out folder (holds summary.json)")
    c.add_argument("--cpu-s", type=float, required=True, help="user + sys seconds of the run")
    c.add_argument("--wall-s", type=float, required=True, help="wall seconds of the run")
    c.add_argument("--note", default="")
    sub.add_parser("table", help="write effects_bpsta.md from the recorded runs")
    for p in (d, a):
        p.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    if args.command in ("record-cli", "table"):
        (record_cli if args.command == "record-cli" else table)(args)
        return
    torch.set_num_threads(args.threads)
    (diagnose if args.command == "diagnose" else ablation)(args)


if __name__ == "__main__":
    main()
