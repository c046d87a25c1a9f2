r"""One training epoch and one evaluation; sums stay on the device until the epoch ends."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

import torch
from tqdm.auto import tqdm

from ..metrics import FiringRates, SynapticOps, energy
from .errors import RunError
from .schedule import lr_factor
from .setup import DATA_ERRORS, Parts, last_line

__all__ = ["evaluate", "set_learning_rate", "train_one_epoch"]


def set_learning_rate(parts: Parts, epoch: int) -> None:
    r"""Set :math:`\eta_e = \eta_0 f(e)` in every parameter group for ``epoch`` (0-based).

    Example::

        >>> set_learning_rate(parts, epoch=0)  # doctest: +SKIP
    """
    recipe = parts.recipe
    factor = lr_factor(recipe.schedule, recipe.schedule_kwargs, epoch, recipe.epochs)
    for group, base in zip(parts.optimizer.param_groups, parts.base_lrs, strict=True):
        group["lr"] = base * factor


def _read(batches: Iterable, split: str, num_classes: int) -> Iterator:
    """Iterate ``batches``; an unreadable item or a label out of range stops the run with a
    one-line message (labels are checked on the host, before they reach the device)."""
    iterator = iter(batches)
    while True:
        try:
            x, labels = next(iterator)
        except StopIteration:
            return
        except DATA_ERRORS as err:
            raise RunError(f"cannot read the {split} data: {last_line(err)}") from None
        low, high = (int(labels.min()), int(labels.max())) if labels.numel() else (0, 0)
        if low < 0 or high >= num_classes:
            raise RunError(f"the {split} data holds a label outside 0..{num_classes - 1} "
                           f"({low if low < 0 else high}); its files are corrupt or belong to "
                           f"another data set")
        yield x, labels


def _finite(tensor: torch.Tensor) -> torch.Tensor:
    return torch.isfinite(tensor).all()


def _non_finite_part(parts: Parts, x: torch.Tensor, out: torch.Tensor, loss: torch.Tensor,
                     check_grads: bool) -> str:
    """Name the first non-finite tensor of a batch: input, output, loss, a gradient, a weight."""
    if not bool(_finite(x)):
        return "the input batch holds NaN or infinite values: check the data set"
    if not bool(_finite(out)):
        return "the network's output is NaN or infinite although its input is finite"
    if not bool(_finite(loss)):
        return f"the loss is {float(loss.detach().sum())}"
    named = list(parts.model.named_parameters())
    if check_grads:
        for name, param in named:
            if param.grad is not None and not bool(_finite(param.grad)):
                return f"the gradient of {name} is NaN or infinite"
    for name, param in named:
        if not bool(_finite(param)):
            return f"the weights {name} became NaN or infinite"
    return "a tensor became NaN or infinite"


def _check_finite(parts: Parts, epoch: int, batch: int, x: torch.Tensor, out: torch.Tensor,
                  loss: torch.Tensor) -> None:
    """Stop the run if the input, output, loss, a gradient or a weight is not finite.

    One flag per batch is computed on the device and read once (our choice: the per-batch cost
    of one synchronisation buys a message that names the batch and the tensor). Under fp16 the
    loss scaler skips steps with infinite gradients, so only weights are checked after a step.
    """
    check_grads = parts.precision.scaler is None
    tensors = [x, out, loss] + [p for p in parts.model.parameters()]
    if check_grads:
        tensors += [p.grad for p in parts.model.parameters() if p.grad is not None]
    if bool(torch.stack([_finite(t) for t in tensors]).all()):
        return
    what = _non_finite_part(parts, x, out, loss, check_grads)
    raise RunError(f"{parts.recipe.name} stopped in epoch {epoch + 1}, batch {batch + 1}: {what}; "
                   f"lower the learning rate or check the data (last.pt and best.pt keep the "
                   f"last finished epoch)")


def _encode(parts: Parts, x: torch.Tensor, where: str) -> torch.Tensor:
    try:
        return parts.encode_batch(x)
    except RuntimeError:
        if x.is_floating_point() and not bool(_finite(x)):
            raise RunError(f"{parts.recipe.name} stopped in {where}: the input batch holds NaN "
                           f"or infinite values; check the data set") from None
        raise


def _step_decoder(parts: Parts) -> None:
    """Let a decoder with ``step()`` (TWO) update from the counts of all processes."""
    decoder = parts.model.decoder
    if decoder is None or not hasattr(decoder, "step"):
        return
    for name in ("correct", "seen"):
        counts = getattr(decoder, name, None)
        if isinstance(counts, torch.Tensor):
            parts.dist.all_reduce_sum(counts)
    decoder.step()


def train_one_epoch(parts: Parts, epoch: int) -> dict[str, float]:
    r"""Train one epoch; return the mean training loss and accuracy over all processes.

    Each process's loss is weighed by its share of the global batch :math:`B`,
    :math:`L = \frac{W b_r}{B} \bar{L}_r`, so that DistributedDataParallel's mean over the
    :math:`W` processes is the mean over the global batch even when the last batch splits
    unevenly.

    Example::

        >>> row = train_one_epoch(parts, epoch=0)  # doctest: +SKIP
    """
    device, world = parts.device, parts.dist.world
    sampler = parts.train_loader.batch_sampler
    sampler.set_epoch(epoch)
    global_sizes = sampler.global_sizes()
    parts.train_model.train()
    sums = torch.zeros(3, dtype=torch.float64, device=device)  # loss * n, correct, seen
    batches = tqdm(parts.train_loader, desc=f"epoch {epoch + 1}", leave=False,
                   disable=not parts.progress)
    for index, (x, labels) in enumerate(_read(batches, "training", parts.recipe.num_classes)):
        x, labels = x.to(device, non_blocking=True), labels.to(device, non_blocking=True)
        encoded = _encode(parts, x, f"epoch {epoch + 1}, batch {index + 1}")
        with parts.precision.autocast():
            out = parts.train_model(encoded, labels)
            loss = parts.loss_fn(out, labels)
        objective = loss.sum()
        share = labels.numel() * world / global_sizes[index]
        if share != 1:  # an uneven last batch: weigh each process's mean by its share
            objective = objective * share
        parts.optimizer.zero_grad(set_to_none=True)
        parts.precision.backward(objective)
        parts.precision.step(parts.optimizer)
        _check_finite(parts, epoch, index, x, out, loss)
        sums[0] += loss.detach().sum().double() * labels.numel()
        sums[1] += (parts.predict(out.detach()).argmax(-1) == labels).sum()
        sums[2] += labels.numel()
    parts.dist.all_reduce_sum(sums)
    _step_decoder(parts)
    loss_sum, correct, seen = sums.tolist()
    return {"train_loss": loss_sum / max(seen, 1), "train_acc": correct / max(seen, 1)}


def _reduce_meters(parts: Parts, rates: FiringRates, ops: SynapticOps) -> None:
    """Sum the spike and input counts of the evaluation over all processes."""
    if parts.dist.world == 1:
        return
    keys = [(rates._spikes, name) for name in rates._spikes]
    keys += [(rates._counts, name) for name in rates._counts]
    keys += [(ops._nonzero, name) for name in ops._nonzero]
    keys += [(ops._values, name) for name in ops._values]
    values = torch.tensor([float(table[name]) for table, name in keys], dtype=torch.float64,
                          device=parts.device)
    for (table, name), value in zip(keys, parts.dist.all_reduce_sum(values).tolist(),
                                    strict=True):
        table[name] = value


def _energy(ops: SynapticOps, num_steps: int) -> dict[str, Any] | None:
    """Eq. 11 energy estimate of the evaluation (JSON-safe: an infinite ratio is None)."""
    if not ops.flops():
        return None
    estimate = energy(ops.flops(), ops.input_rates(), num_steps)
    return json.loads(json.dumps(estimate, default=float).replace("Infinity", "null"))


def evaluate(parts: Parts) -> dict[str, Any]:
    """Evaluate the bare model on the test split, each item once over all processes.

    Returns the accuracy, the overall and per-layer firing rates, and the energy estimate.

    Example::

        >>> evaluate(parts)["test_acc"]  # doctest: +SKIP
        0.95
    """
    model, device, recipe = parts.model, parts.device, parts.recipe
    model.eval()
    sums = torch.zeros(2, dtype=torch.float64, device=device)  # correct, seen
    batches = tqdm(parts.test_loader, desc="test", leave=False, disable=not parts.progress)
    with (torch.no_grad(), parts.precision.autocast(), FiringRates(model) as rates,
          SynapticOps(model) as ops):
        for x, labels in _read(batches, "test", recipe.num_classes):
            x, labels = x.to(device, non_blocking=True), labels.to(device, non_blocking=True)
            out = model(_encode(parts, x, "the evaluation"))
            sums[0] += (parts.predict(out).argmax(-1) == labels).sum()
            sums[1] += labels.numel()
    parts.dist.all_reduce_sum(sums)
    _reduce_meters(parts, rates, ops)
    correct, seen = sums.tolist()
    return {"test_acc": correct / max(seen, 1), "firing_rate": rates.overall(),
            "layer_firing_rates": rates.per_layer(), "energy": _energy(ops, recipe.num_steps)}
