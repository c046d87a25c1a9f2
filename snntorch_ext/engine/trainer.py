r"""The training engine: builds a recipe's parts, trains, evaluates, checkpoints and reports."""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
import math
import os
import platform
import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import snntorch
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from ..metrics import FiringRates, SynapticOps, energy
from ..recipes import Recipe, get, resolve
from .checkpoint import load_checkpoint, save_atomic
from .report import plot_curves, write_json, write_metrics
from .schedule import lr_factor

__all__ = ["Pipeline", "RunError", "build_model", "default_data_root", "train"]

RUN_FILES = ("run.json", "last.pt", "best.pt", "metrics.jsonl", "metrics.csv", "summary.json",
             "curves.png")
EpochCallback = Callable[[int, dict[str, Any]], None]


class RunError(ValueError):
    """A run cannot start or continue: unknown recipe, device, output folder or checkpoint.

    A ``ValueError``; the command line prints it and exits with code 2.

    Example::

        >>> import snntorch_ext as snx
        >>> try:
        ...     snx.engine.train("no-such-recipe")
        ... except snx.engine.RunError as err:
        ...     print(str(err)[:30])
        unknown recipe 'no-such-recipe
    """


class Pipeline(nn.Module):
    r"""A recipe's model: the network (possibly wrapped, e.g. by ASF) and an optional decoder.

    .. math:: y = \mathrm{decoder}(\mathrm{network}(x)),\ x \in \mathbb{R}^{T \times B \times \dots}

    In training mode a decoder with an ``observe(out, labels)`` method (TWO) sees every batch.

    Example::

        >>> import torch, snntorch_ext as snx
        >>> model = snx.engine.Pipeline(snx.models.stbp_cnn())
        >>> model(torch.rand(2, 3, 1, 28, 28)).shape
        torch.Size([2, 3, 10])
    """

    def __init__(self, network: nn.Module, decoder: nn.Module | None = None) -> None:
        super().__init__()
        self.network = network
        self.decoder = decoder

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        out = self.network(x)
        if self.decoder is None:
            return out
        if self.training and labels is not None and hasattr(self.decoder, "observe"):
            self.decoder.observe(out.detach(), labels)
        return self.decoder(out)


def default_data_root() -> Path:
    """The default data folder: ``$SNNTORCH_EXT_DATA`` if set, else ``~/.cache/snntorch_ext``.

    Example::

        >>> import snntorch_ext as snx
        >>> root = snx.engine.default_data_root()
        >>> test = snx.data.mnist_offline(root, train=False)  # doctest: +SKIP
    """
    return Path(os.environ.get("SNNTORCH_EXT_DATA", "~/.cache/snntorch_ext")).expanduser()


def _neuron_factory(recipe: Recipe) -> Callable[[], nn.Module] | None:
    if recipe.neuron is None:
        return None
    neuron_cls = resolve(recipe.neuron)

    def make() -> nn.Module:
        kwargs = dict(recipe.neuron_kwargs)
        if recipe.spike_grad is not None:
            kwargs["spike_grad"] = resolve(recipe.spike_grad)(**recipe.spike_grad_kwargs)
        return neuron_cls(init_hidden=True, **kwargs)

    return make


def build_model(recipe: Recipe, in_channels: int) -> Pipeline:
    """Build the recipe's network (with its neuron, wrapper and decoder) as a :class:`Pipeline`.

    Example::

        >>> import snntorch_ext as snx
        >>> model = snx.engine.build_model(snx.recipes.get("stbp-mnist"), in_channels=1)
    """
    kwargs = dict(recipe.network_kwargs)
    neuron = _neuron_factory(recipe)
    if neuron is not None:
        kwargs["neuron"] = neuron
    network = resolve(recipe.network)(in_channels, recipe.num_classes, **kwargs)
    if recipe.wrapper is not None:
        network = resolve(recipe.wrapper)(network, num_steps=recipe.num_steps,
                                          **recipe.wrapper_kwargs)
    decoder = resolve(recipe.decoder)(**recipe.decoder_kwargs) if recipe.decoder else None
    return Pipeline(network, decoder)


def _datasets(recipe: Recipe, root: Path, download: bool) -> tuple[Dataset, Dataset]:
    factory = resolve(recipe.dataset)
    kwargs = dict(recipe.dataset_kwargs)
    if "num_steps" in inspect.signature(factory).parameters:
        kwargs["num_steps"] = recipe.num_steps
    return (factory(root, train=True, download=download, **kwargs),
            factory(root, train=False, download=download, **kwargs))


def _device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RunError("--device cuda was asked for, but CUDA is not available here; "
                       "use --device cpu or --device auto")
    if name not in ("cpu", "cuda"):
        raise RunError(f"device must be one of auto, cpu, cuda, got {name!r}")
    return torch.device(name)


def _stable_seed(*parts: int | str) -> int:
    """A seed from ``parts`` that is the same in every process (unlike ``hash`` of a string)."""
    return int.from_bytes(hashlib.sha256(repr(parts).encode()).digest()[:4], "little")


def _seed_everything(*parts: int | str) -> None:
    seed = _stable_seed(*parts)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _versions() -> dict[str, str]:
    from .. import __version__

    return {"snntorch_ext": __version__, "snntorch": snntorch.__version__,
            "torch": torch.__version__, "python": platform.python_version()}


def _config(recipe: Recipe, quick: bool, seed: int) -> dict[str, Any]:
    return json.loads(json.dumps({"recipe": recipe.to_dict(), "quick": quick, "seed": seed}))


def _differences(old: dict, new: dict, prefix: str = "") -> list[str]:
    keys = sorted(set(old) | set(new))
    diffs = []
    for key in keys:
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            diffs += _differences(a, b, f"{prefix}{key}.")
        elif a != b:
            diffs.append(f"{prefix}{key}: {a!r} -> {b!r}")
    return diffs


def _prepare_out(out: Path, name: str, config: dict, resume: bool, overwrite: bool) -> None:
    """Check that ``out`` may receive this run; clear it if ``overwrite``. Writes nothing else."""
    if not out.exists():
        return
    if not out.is_dir():
        raise RunError(f"--out {out} exists and is not a folder")
    run_file = out / "run.json"
    if not run_file.exists():
        if any(out.iterdir()):
            raise RunError(f"--out {out} is not empty and holds no snntorch-ext run; "
                           f"choose a new or empty folder")
        return
    try:
        previous = json.loads(run_file.read_text())
        previous_name = previous["config"]["recipe"]["name"]
    except (ValueError, KeyError, TypeError):
        raise RunError(f"{run_file} is unreadable; choose another --out") from None
    if previous_name != name:
        raise RunError(f"--out {out} holds a run of recipe {previous_name!r}, not {name!r}; "
                       f"choose another --out")
    if overwrite:
        for file in RUN_FILES:
            (out / file).unlink(missing_ok=True)
        return
    diffs = _differences(previous["config"], config)
    if diffs:
        raise RunError(f"--out {out} holds a run of {name} with other settings "
                       f"({'; '.join(diffs)}); choose another --out or pass --overwrite")
    if not resume and (out / "last.pt").exists():
        raise RunError(f"--out {out} already holds a run of {name}; pass --resume to continue it "
                       f"or --overwrite to start again")


def _energy(ops: SynapticOps | None, num_steps: int) -> dict[str, Any] | None:
    """Eq. 11 energy estimate of the last evaluation (JSON-safe: an infinite ratio is None)."""
    if ops is None or not ops.flops():
        return None
    estimate = energy(ops.flops(), ops.input_rates(), num_steps)
    return json.loads(json.dumps(estimate, default=float).replace("Infinity", "null"))


def _evaluate(model: Pipeline, loader: DataLoader, recipe: Recipe, encode: Callable,
              predict: Callable, device: torch.device, progress: bool
              ) -> tuple[float, FiringRates, SynapticOps]:
    model.eval()
    correct = total = 0
    with torch.no_grad(), FiringRates(model) as rates, SynapticOps(model) as ops:
        for x, labels in tqdm(loader, desc="test", leave=False, disable=not progress):
            x, labels = x.to(device), labels.to(device)
            out = model(encode(x, recipe.num_steps, **recipe.encoder_kwargs))
            correct += int((predict(out).argmax(-1) == labels).sum())
            total += labels.numel()
    return correct / max(total, 1), rates, ops


def train(recipe: str | Recipe, *, quick: bool = False, epochs: int | None = None,
          batch_size: int | None = None, device: str = "auto", out: str | os.PathLike | None = None,
          resume: bool = False, seed: int = 0, data_root: str | os.PathLike | None = None,
          download: bool = False, overwrite: bool = False, progress: bool = True,
          callbacks: Sequence[EpochCallback] = ()) -> dict[str, Any]:
    r"""Train and evaluate a recipe; write metrics, plots, checkpoints and a summary to ``out``.

    Every epoch :math:`e` runs with the learning rate
    :math:`\eta_e = \eta_0 \cdot f(e)` (:func:`~snntorch_ext.engine.lr_factor`), then evaluates
    on the
    test split and appends a row to ``metrics.jsonl``/``metrics.csv``; ``last.pt`` (model,
    optimiser, history) and ``best.pt`` (best test accuracy) are written atomically. Random
    state is re-seeded from ``(seed, epoch)`` at the start of every epoch, so a run that is
    interrupted and resumed (``resume=True``) ends with bit-identical weights on the CPU.

    Args:
        recipe: a recipe name (see ``snntorch-ext list``) or a
            :class:`~snntorch_ext.recipes.Recipe`.
        quick: use the recipe's CPU quick variant (offline data, fewer epochs).
        epochs: override the number of epochs.
        batch_size: override the batch size.
        device: ``"auto"`` (CUDA if available), ``"cpu"`` or ``"cuda"``.
        out: output folder; default ``runs/<recipe>`` (``runs/<recipe>-quick`` with ``quick``).
        resume: continue the run in ``out`` from ``last.pt``.
        seed: seed of initialisation, shuffling and encoding.
        data_root: data folder; default :func:`default_data_root`.
        download: let torchvision/tonic download missing data sets.
        overwrite: replace a previous run of the same recipe in ``out``.
        progress: show tqdm bars.
        callbacks: functions ``f(epoch, row)`` called after every finished epoch.

    Returns:
        The summary written to ``summary.json``.

    Raises:
        RunError: unknown recipe, unavailable device, an ``out`` folder that holds another run, or
            an unreadable or mismatched checkpoint. Nothing is overwritten in that case.

    Example::

        >>> import snntorch_ext as snx
        >>> summary = snx.engine.train("stbp-mnist", quick=True, epochs=1)  # doctest: +SKIP
        >>> summary["test_acc"]  # doctest: +SKIP
        0.95
    """
    if isinstance(recipe, str):
        try:
            recipe = get(recipe)
        except ValueError as err:
            raise RunError(str(err)) from None
    if quick:
        recipe = recipe.quick_variant()
    overrides = {k: v for k, v in (("epochs", epochs), ("batch_size", batch_size)) if v is not None}
    for key, value in overrides.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise RunError(f"{key} must be an integer >= 1, got {value!r}")
    recipe = dataclasses.replace(recipe, **overrides)
    dev = _device(device)
    if out is None:
        out = Path("runs") / (recipe.name + ("-quick" if quick else ""))
    out = Path(out)
    config = _config(recipe, quick, seed)
    _prepare_out(out, recipe.name, config, resume, overwrite)

    ckpt = None
    if resume and (out / "last.pt").exists():
        try:
            ckpt = load_checkpoint(out / "last.pt")
        except ValueError as err:
            raise RunError(str(err)) from None
        if ckpt["recipe"] != recipe.name or ckpt.get("config") != config:
            raise RunError(f"{out / 'last.pt'} was written by another recipe or other settings "
                           f"({'; '.join(_differences(ckpt.get('config') or {}, config))})")

    _seed_everything(seed)
    root = Path(data_root).expanduser() if data_root is not None else default_data_root()
    train_set, test_set = _datasets(recipe, root, download)
    encode = resolve(recipe.encoder)
    in_channels = encode(train_set[0][0].unsqueeze(0), recipe.num_steps,
                         **recipe.encoder_kwargs).shape[2]
    model = build_model(recipe, in_channels).to(dev)
    optimizer = resolve(recipe.optimizer)(model.parameters(), **recipe.optimizer_kwargs)
    base_lrs = [group["lr"] for group in optimizer.param_groups]
    loss_fn = resolve(recipe.loss)(**recipe.loss_kwargs)
    predict = resolve(recipe.predict)

    rows: list[dict[str, Any]] = []
    best = -1.0
    if ckpt is not None:
        try:
            model.load_state_dict(ckpt["model"])
            optimizer.load_state_dict(ckpt["optimizer"])
        except (RuntimeError, ValueError, KeyError) as err:
            raise RunError(f"{out / 'last.pt'} does not match the model of {recipe.name}: "
                           f"{str(err).splitlines()[0]}") from None
        rows, best = list(ckpt["rows"]), float(ckpt["best_test_acc"])

    out.mkdir(parents=True, exist_ok=True)
    write_json({"config": config, "versions": _versions()}, out / "run.json")

    generator = torch.Generator()
    loader_kwargs = {"num_workers": 0 if dev.type == "cpu" else min(4, os.cpu_count() or 1),
                     "pin_memory": dev.type == "cuda"}
    train_loader = DataLoader(train_set, batch_size=recipe.batch_size, shuffle=True,
                              generator=generator, **loader_kwargs)
    test_loader = DataLoader(test_set, batch_size=recipe.batch_size, **loader_kwargs)
    decoder = model.decoder
    rates = ops = None

    bar = tqdm(range(len(rows), recipe.epochs), desc=recipe.name, initial=len(rows),
               total=recipe.epochs, disable=not progress)
    for epoch in bar:
        start = time.perf_counter()
        _seed_everything(seed, epoch)
        generator.manual_seed(_stable_seed(seed, epoch, "shuffle"))
        factor = lr_factor(recipe.schedule, recipe.schedule_kwargs, epoch, recipe.epochs)
        for group, base in zip(optimizer.param_groups, base_lrs, strict=True):
            group["lr"] = base * factor
        model.train()
        loss_sum = correct = seen = 0
        for x, labels in tqdm(train_loader, desc=f"epoch {epoch + 1}", leave=False,
                              disable=not progress):
            x, labels = x.to(dev), labels.to(dev)
            out_t = model(encode(x, recipe.num_steps, **recipe.encoder_kwargs), labels)
            loss = loss_fn(out_t, labels)
            if not torch.isfinite(loss).all():
                raise RunError(f"the loss of {recipe.name} became {float(loss)} in epoch "
                               f"{epoch + 1}; lower the learning rate (--out keeps the last "
                               f"finished epoch)")
            optimizer.zero_grad(set_to_none=True)
            loss.sum().backward()
            optimizer.step()
            loss_sum += float(loss.detach().sum()) * labels.numel()
            correct += int((predict(out_t.detach()).argmax(-1) == labels).sum())
            seen += labels.numel()
        if decoder is not None and hasattr(decoder, "step"):
            decoder.step()
        _seed_everything(seed, epoch, "test")
        test_acc, rates, ops = _evaluate(model, test_loader, recipe, encode, predict, dev,
                                         progress)
        row = {"epoch": epoch + 1, "train_loss": loss_sum / seen, "train_acc": correct / seen,
               "test_acc": test_acc, "firing_rate": rates.overall(),
               "lr": optimizer.param_groups[0]["lr"], "seconds": time.perf_counter() - start}
        rows.append(row)
        if test_acc > best:
            best = test_acc
            save_atomic({"recipe": recipe.name, "epoch": epoch + 1, "test_acc": test_acc,
                         "model": model.state_dict()}, out / "best.pt")
        save_atomic({"format": 1, "recipe": recipe.name, "config": config, "epoch": epoch + 1,
                     "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                     "best_test_acc": best, "rows": rows}, out / "last.pt")
        write_metrics(rows, out)
        plot_curves(rows, out / "curves.png", recipe.name + (" (quick)" if quick else ""))
        bar.set_postfix(loss=f"{row['train_loss']:.4f}", test_acc=f"{test_acc:.4f}")
        for callback in callbacks:
            callback(epoch + 1, row)

    if not rows:
        raise RunError(f"{recipe.name} has no finished epoch to report")
    summary = {
        "recipe": recipe.name, "paper": recipe.paper, "table": recipe.table, "quick": quick,
        "test_acc": rows[-1]["test_acc"], "best_test_acc": max(r["test_acc"] for r in rows),
        "epochs": len(rows), "seconds": math.fsum(r["seconds"] for r in rows),
        "firing_rate": rows[-1]["firing_rate"],
        "layer_firing_rates": rates.per_layer() if rates is not None else None,
        "energy": _energy(ops, recipe.num_steps),
        "device": str(dev), "seed": seed, "versions": _versions(),
    }
    write_json(summary, out / "summary.json")
    return summary
