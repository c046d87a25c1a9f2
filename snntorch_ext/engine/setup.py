r"""Setting up a run: the recipe, its data (checked once), model, optimiser and loaders."""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import math
import os
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, Sampler, Subset

from ..recipes import Recipe, get, resolve
from .dist import Dist
from .errors import RunError
from .precision import Precision, compile_network

__all__ = ["Parts", "Pipeline", "build_model", "build_parts", "default_data_root",
           "resolve_recipe", "seed_everything", "stable_seed"]

DATA_ERRORS = (ValueError, OSError, RuntimeError, EOFError, IndexError, KeyError, AssertionError)
"""What data set code raises for missing, truncated or malformed files."""


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


def stable_seed(*parts: int | str) -> int:
    """A seed from ``parts`` that is the same in every process (unlike ``hash`` of a string).

    Example::

        >>> from snntorch_ext.engine.setup import stable_seed
        >>> stable_seed(0, 3, "shuffle") == stable_seed(0, 3, "shuffle")
        True
    """
    return int.from_bytes(hashlib.sha256(repr(parts).encode()).digest()[:4], "little")


def seed_everything(*parts: int | str) -> None:
    """Seed Python's, NumPy's and PyTorch's generators from :func:`stable_seed` of ``parts``.

    Example::

        >>> import torch
        >>> from snntorch_ext.engine.setup import seed_everything
        >>> seed_everything(0, 1); a = torch.rand(1)
        >>> seed_everything(0, 1); bool(torch.rand(1) == a)
        True
    """
    seed = stable_seed(*parts)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def resolve_recipe(recipe: str | Recipe, quick: bool, epochs: int | None,
                   batch_size: int | None) -> Recipe:
    """The recipe to run: looked up by name, its quick variant if asked, with overrides.

    Example::

        >>> from snntorch_ext.engine.setup import resolve_recipe
        >>> resolve_recipe("stbp-mnist", quick=True, epochs=2, batch_size=None).epochs
        2
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
    return dataclasses.replace(recipe, **overrides)


def _part(path: str) -> Any:
    """A recipe's part from its import path; one that cannot be imported is a RunError."""
    try:
        return resolve(path)
    except ValueError as err:
        raise RunError(f"{err}; is its package installed?") from None


def _neuron_factory(recipe: Recipe) -> Callable[[], nn.Module] | None:
    if recipe.neuron is None:
        return None
    neuron_cls = _part(recipe.neuron)

    def make() -> nn.Module:
        kwargs = dict(recipe.neuron_kwargs)
        if recipe.spike_grad is not None:
            kwargs["spike_grad"] = _part(recipe.spike_grad)(**recipe.spike_grad_kwargs)
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
    network = _part(recipe.network)(in_channels, recipe.num_classes, **kwargs)
    if recipe.wrapper is not None:
        network = _part(recipe.wrapper)(network, num_steps=recipe.num_steps,
                                          **recipe.wrapper_kwargs)
    decoder = _part(recipe.decoder)(**recipe.decoder_kwargs) if recipe.decoder else None
    return Pipeline(network, decoder)


# -- data ------------------------------------------------------------------------------------
def _targets(data: Dataset) -> list[int] | None:
    """Every label of ``data`` without reading its items, where the data set keeps them."""
    if isinstance(data, Subset):
        inner = _targets(data.dataset)
        return None if inner is None else [inner[i] for i in data.indices]
    targets = getattr(data, "targets", None)
    if targets is None:
        return None
    if isinstance(targets, torch.Tensor):
        return targets.tolist()
    return list(np.asarray(targets).tolist())


def _as_int(label: Any) -> Any:
    """An integer label as ``int`` (also a 0-dim integer tensor or a NumPy integer)."""
    if isinstance(label, torch.Tensor) and label.dim() == 0 and not label.is_floating_point():
        return int(label)
    if isinstance(label, np.integer):
        return int(label)
    return label


def _check_data(data: Dataset, split: str, recipe: Recipe) -> torch.Size:
    """Check labels and the item shape once, when the data set is opened; return the shape."""
    where = f"the {split} split of {recipe.dataset}"
    if len(data) == 0:
        raise RunError(f"{where} is empty")
    item = data[0]
    if not (isinstance(item, tuple | list) and len(item) == 2
            and isinstance(item[0], torch.Tensor)):
        raise RunError(f"{where} must give (tensor, label) pairs, got {type(item).__name__}")
    targets = _targets(data)
    labels = [_as_int(t) for t in (targets if targets is not None else [item[1]])]
    bad = [t for t in labels if not isinstance(t, int) or not 0 <= t < recipe.num_classes]
    if bad:
        raise RunError(f"{where} holds labels outside 0..{recipe.num_classes - 1} (e.g. "
                       f"{bad[0]!r}, {len(bad)} in all); its files are corrupt or belong to "
                       f"another data set")
    return item[0].shape


def open_data(recipe: Recipe, root: Path, download: bool) -> tuple[Dataset, Dataset]:
    """Open the training and test splits, and check their labels and item shapes."""
    if root.exists() and not root.is_dir():
        raise RunError(f"--data-root {root} is a file, not a folder; give the folder that "
                       f"holds (or will hold) the data")
    factory = _part(recipe.dataset)
    kwargs = dict(recipe.dataset_kwargs)
    if "num_steps" in inspect.signature(factory).parameters:
        kwargs["num_steps"] = recipe.num_steps
    try:
        splits = (factory(root, train=True, download=download, **kwargs),
                  factory(root, train=False, download=download, **kwargs))
        shapes = [_check_data(data, split, recipe)
                  for data, split in zip(splits, ("training", "test"), strict=True)]
    except RunError:
        raise
    except FileNotFoundError as err:
        raise RunError(str(err)) from None
    except DATA_ERRORS as err:
        raise RunError(f"cannot read {recipe.dataset} under {root}: {last_line(err)}") from None
    if shapes[0] != shapes[1]:
        raise RunError(f"the training and test items of {recipe.dataset} differ in shape "
                       f"({tuple(shapes[0])} and {tuple(shapes[1])})")
    return splits


def last_line(err: BaseException) -> str:
    """One line of an error: the last of a DataLoader worker's (which carries a traceback), or
    the first of any other."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    if not lines:
        return type(err).__name__
    return lines[-1] if "Original Traceback" in str(err) else lines[0]


class ShardedBatches(Sampler[list[int]]):
    r"""Batches of one process: its share of every global batch of ``batch_size`` items.

    The global batches are consecutive slices of one permutation (the same in every process,
    seeded by ``(seed, epoch)``, or the identity for the test split); process :math:`r` of
    :math:`W` takes the items :math:`r, r + W, \dots` of each slice, so the union of the
    processes' batches is the batch a single process would see.

    Example::

        >>> from snntorch_ext.engine.dist import Dist
        >>> from snntorch_ext.engine.setup import ShardedBatches
        >>> list(ShardedBatches(5, 4, Dist(rank=1, world=2), seed=None))
        [[1, 3]]
    """

    def __init__(self, size: int, batch_size: int, dist: Dist, seed: int | None) -> None:
        self.size, self.batch_size, self.dist, self.seed = size, batch_size, dist, seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def global_sizes(self) -> list[int]:
        """The size of every global batch, in order."""
        full, rest = divmod(self.size, self.batch_size)
        sizes = [self.batch_size] * full + ([rest] if rest else [])
        if self.seed is not None and self.dist.world > 1 and rest and rest < self.dist.world:
            sizes.pop()  # a process would get an empty batch: drop the few last items
        return sizes

    def _order(self) -> list[int]:
        if self.seed is None:
            return list(range(self.size))
        generator = torch.Generator().manual_seed(stable_seed(self.seed, self.epoch, "shuffle"))
        return torch.randperm(self.size, generator=generator).tolist()

    def __iter__(self) -> Iterator[list[int]]:
        order = self._order()
        start = 0
        for size in self.global_sizes():
            share = order[start:start + size][self.dist.rank::self.dist.world]
            start += size
            if share:
                yield share

    def __len__(self) -> int:
        return sum(1 for size in self.global_sizes() if size > self.dist.rank)


# -- all parts of a run -----------------------------------------------------------------------
@dataclass
class Parts:
    """Everything one run trains with; ``model`` is the bare model, ``train_model`` may wrap it
    (``torch.compile``, DistributedDataParallel).

    Example::

        >>> from snntorch_ext.engine.setup import build_parts  # doctest: +SKIP
        >>> parts = build_parts(recipe, splits, dist, precision, False, 0, False)  # doctest: +SKIP
    """

    recipe: Recipe
    model: Pipeline
    train_model: nn.Module
    optimizer: torch.optim.Optimizer
    base_lrs: list[float]
    loss_fn: Callable
    predict: Callable
    encode: Callable
    train_loader: DataLoader
    test_loader: DataLoader
    dist: Dist
    precision: Precision
    progress: bool

    @property
    def device(self) -> torch.device:
        return self.dist.device

    def encode_batch(self, x: torch.Tensor) -> torch.Tensor:
        return self.encode(x, self.recipe.num_steps, **self.recipe.encoder_kwargs)


def _loaders(recipe: Recipe, splits: tuple[Dataset, Dataset], dist: Dist, seed: int
             ) -> tuple[DataLoader, DataLoader]:
    if recipe.batch_size % dist.world:
        raise RunError(f"the batch size {recipe.batch_size} (the global batch of all processes) "
                       f"is not divisible by the {dist.world} processes; pass --batch-size "
                       f"with a multiple of {dist.world}")
    device = dist.device
    kwargs: dict[str, Any] = {
        "num_workers": 0 if device.type == "cpu" else min(4, (os.cpu_count() or 1) // dist.world),
        "pin_memory": device.type == "cuda"}
    train_sampler = ShardedBatches(len(splits[0]), recipe.batch_size, dist, seed)
    test_sampler = ShardedBatches(len(splits[1]), recipe.batch_size, dist, None)
    return (DataLoader(splits[0], batch_sampler=train_sampler, **kwargs),
            DataLoader(splits[1], batch_sampler=test_sampler, **kwargs))


def _wrap(model: Pipeline, dist: Dist, compile: bool) -> nn.Module:
    """The module that trains: DDP over ``model``, compiled if asked.

    Neuron state (membrane potentials) lives in buffers, so buffers are not synchronised at
    every forward pass; they are equal at the start, where every process built (or loaded) the
    same model.
    """
    wrapped: nn.Module = model
    if dist.world > 1:
        device_ids = [dist.device.index] if dist.device.type == "cuda" else None
        ddp = nn.parallel.DistributedDataParallel
        no_sync = ({"forward_sync_buffers": False}  # newer PyTorch's name
                   if "forward_sync_buffers" in inspect.signature(ddp).parameters
                   else {"broadcast_buffers": False})
        wrapped = ddp(model, device_ids=device_ids, **no_sync)
    return compile_network(wrapped) if compile else wrapped


def build_parts(recipe: Recipe, splits: tuple[Dataset, Dataset], dist: Dist,
                precision: Precision, compile: bool, seed: int, progress: bool) -> Parts:
    """Build the model (seeded), optimiser, loss, loaders and training wrapper of a run.

    Example::

        >>> parts = build_parts(recipe, data, Dist(), precision, False, 0, True)  # doctest: +SKIP
    """
    seed_everything(seed)
    encode = _part(recipe.encoder)
    in_channels = encode(splits[0][0][0].unsqueeze(0), recipe.num_steps,
                         **recipe.encoder_kwargs).shape[2]
    model = build_model(recipe, in_channels).to(dist.device)
    precision.keep_neurons_float32(model)
    optimizer = _part(recipe.optimizer)(model.parameters(), **recipe.optimizer_kwargs)
    train_loader, test_loader = _loaders(recipe, splits, dist, seed)
    return Parts(
        recipe=recipe, model=model, train_model=_wrap(model, dist, compile),
        optimizer=optimizer, base_lrs=[group["lr"] for group in optimizer.param_groups],
        loss_fn=_part(recipe.loss)(**recipe.loss_kwargs), predict=_part(recipe.predict),
        encode=encode, train_loader=train_loader, test_loader=test_loader, dist=dist,
        precision=precision, progress=progress and dist.is_main)


def restore(parts: Parts, ckpt: dict[str, Any], path: Path) -> None:
    """Load a checkpoint's model, optimiser and loss-scaler state into ``parts``."""
    try:
        parts.model.load_state_dict(ckpt["model"])
        parts.optimizer.load_state_dict(ckpt["optimizer"])
    except (RuntimeError, ValueError, KeyError, TypeError) as err:
        raise RunError(f"{path} does not match the model of {parts.recipe.name}: "
                       f"{str(err).splitlines()[0]}") from None
    parts.precision.load_state_dict(ckpt.get("scaler") or {})


def check_rows(ckpt: dict[str, Any], path: Path) -> tuple[list[dict[str, Any]], float]:
    """The finished epochs' rows and best test accuracy a checkpoint holds."""
    rows, best = ckpt["rows"], ckpt["best_test_acc"]
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows) or not (
            isinstance(best, float | int) and math.isfinite(best)):
        raise RunError(f"{path} holds malformed metrics; start again with --overwrite")
    if len(rows) != ckpt["epoch"]:
        raise RunError(f"{path} holds {len(rows)} rows for {ckpt['epoch']} epochs; start again "
                       f"with --overwrite")
    return list(rows), float(best)
