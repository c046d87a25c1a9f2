r"""Cases of one training step: forward, loss, backward and the optimiser's update.

* ``network``: the stbp-mnist network (:func:`snntorch_ext.models.stbp_cnn`, rate-coded input,
  spike-count MSE, Adam) and the MSG ResNet18 (:func:`snntorch_ext.models.resnet18` with
  :class:`~snntorch_ext.MSGLeaky`, event frames, TWO + cross-entropy, AdamW);
* ``asf``: :class:`~snntorch_ext.ASF` against ordinary BPTT through the same network
  (:func:`snntorch_ext.models.asf_lenet`, signed-Poisson input, ASF's MSE);
* ``msg``: the cost of the masked surrogate gradient, masked against bare surrogates for
  ``snn.Leaky`` and :class:`~snntorch_ext.MSGLeaky`, in VGGSNN or the quick ResNet18 (the
  paper says MSG "does not significantly increase the simulation's runtime", Sec. 4.2).

Each builder returns ``(step, x)``: ``step(x)`` runs one training step on the fixed input.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import snntorch as snn
import snntorch.functional as snn_functional
import torch
from torch import nn

from .. import functional, models, surrogate
from ..asf import ASF
from ..decode import TWO
from ..neurons import MSGLeaky
from ..sequential import SpikingSequential
from .layer import available_backends

__all__ = ["MSG_NEURONS", "PAIRS", "training_step"]

MSG_NEURONS: dict[str, Callable[[], nn.Module]] = {
    "snn.Leaky + atan": lambda: snn.Leaky(
        beta=0.5, threshold=0.5, reset_mechanism="zero", init_hidden=True),
    "snn.Leaky + masked(atan, p=0.5)": lambda: snn.Leaky(
        beta=0.5, threshold=0.5, reset_mechanism="zero", init_hidden=True,
        spike_grad=surrogate.masked(snn.surrogate.atan(alpha=2.0), p=0.5)),
    "MSGLeaky + piecewise_linear": lambda: MSGLeaky(
        init_hidden=True, spike_grad=surrogate.piecewise_linear(alpha=2.0)),
    "MSGLeaky + masked(p=0.5)": lambda: MSGLeaky(init_hidden=True),
}
PAIRS = {  # masked variant: its bare base
    "snn.Leaky + masked(atan, p=0.5)": "snn.Leaky + atan",
    "MSGLeaky + masked(p=0.5)": "MSGLeaky + piecewise_linear",
}

Step = Callable[[torch.Tensor], None]


def set_backend(net: nn.Module, path: str) -> nn.Module:
    """Put every :class:`~snntorch_ext.SpikingSequential` inside ``net`` on one path.

    ``per-step`` is ``backend="torch"`` and ``auto`` is ``backend="auto"`` (both are the
    per-step path where there is no backend); a multi-step path (``fused``, ``triton``) raises
    ``NotImplementedError`` where ``SpikingSequential`` has no backend.

    Example::

        >>> import snntorch_ext as snx
        >>> from snntorch_ext.bench.training import set_backend
        >>> net = set_backend(snx.models.stbp_cnn(), "per-step")
    """
    if not available_backends():
        if path not in ("per-step", "auto"):
            raise NotImplementedError(f"SpikingSequential has no backend {path!r} here")
        return net
    backend = "torch" if path == "per-step" else path
    for module in net.modules():
        if isinstance(module, SpikingSequential):
            module.backend = backend
    return net


def _optimise(net: nn.Module, forward: Callable[[torch.Tensor], torch.Tensor],
              loss_fn: Callable[[torch.Tensor], torch.Tensor],
              optimizer: torch.optim.Optimizer) -> Step:
    def step(x: torch.Tensor) -> None:
        optimizer.zero_grad(set_to_none=True)
        loss_fn(forward(x)).backward()
        optimizer.step()

    return step


def _network(params: dict[str, Any], path: str, device: torch.device,
             generator: torch.Generator) -> tuple[Step, torch.Tensor]:
    batch, steps = params["batch"], params["T"]
    labels = torch.randint(0, 10, (batch,), generator=generator).to(device)
    if params["network"] == "stbp_cnn":
        net = set_backend(models.stbp_cnn(1, 10), path).to(device)
        x = (torch.rand(steps, batch, 1, 28, 28, generator=generator) < 0.3).float()
        count_loss = snn_functional.mse_count_loss(correct_rate=1.0, incorrect_rate=0.0)
        optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
        return _optimise(net, net, lambda out: count_loss(out, labels), optimizer), x.to(device)
    size = params["size"]
    net = set_backend(models.resnet18(2, 10, width=params["width"]), path).to(device)
    x = (torch.rand(steps, batch, 2, size, size, generator=generator) < 0.2).float()
    return _two_step(net, steps, labels), x.to(device)


def _two_step(net: nn.Module, steps: int, labels: torch.Tensor) -> Step:
    two = TWO(steps).to(labels.device)
    optimizer = torch.optim.AdamW(net.parameters(), lr=0.05 * labels.numel() / 1024)
    cross_entropy = nn.CrossEntropyLoss()

    def forward(x: torch.Tensor) -> torch.Tensor:
        out = net(x)
        two.observe(out.detach(), labels)
        return two(out)

    return _optimise(net, forward, lambda out: cross_entropy(out, labels), optimizer)


def _asf(params: dict[str, Any], path: str, device: torch.device,
         generator: torch.Generator) -> tuple[Step, torch.Tensor]:
    steps, batch = params["T"], params["batch"]
    images = torch.rand(batch, 1, 28, 28, generator=generator)
    x = functional.signed_poisson(images, steps, generator=generator).to(device)
    labels = torch.randint(0, 10, (batch,), generator=generator).to(device)
    net = models.asf_lenet().to(device)
    if path == "asf":
        forward: Callable[[torch.Tensor], torch.Tensor] = ASF(net, num_steps=steps)
    else:
        sequence = set_backend(SpikingSequential(*net), path.removeprefix("bptt "))

        def forward(x: torch.Tensor) -> torch.Tensor:
            return sequence(x).mean(0)  # V(T) / (T * thr_out) with thr_out = 1, as ASF returns

    optimizer = torch.optim.Adam(net.parameters(), lr=8.5e-4)
    mse = functional.asf_mse_loss()
    return _optimise(net, forward, lambda out: mse(out, labels), optimizer), x


def _msg(params: dict[str, Any], path: str, device: torch.device,
         generator: torch.Generator) -> tuple[Step, torch.Tensor]:
    make = MSG_NEURONS[params["variant"]]
    kwargs = {"width": params["width"], "neuron": make}
    if params["network"] == "vggsnn":
        kwargs["size"] = params["size"]
    net = set_backend(getattr(models, params["network"])(2, 10, **kwargs), path).to(device)
    size, steps = params["size"], params["T"]
    x = (torch.rand(steps, params["batch"], 2, size, size, generator=generator) < 0.2).float()
    labels = torch.randint(0, 10, (params["batch"],), generator=generator).to(device)
    return _two_step(net, steps, labels), x.to(device)


BUILDERS = {"network": _network, "asf": _asf, "msg": _msg}


def training_step(group: str, params: dict[str, Any], path: str,
                  device: torch.device) -> tuple[Step, torch.Tensor]:
    """``(step, x)`` of one training-step case; the weights and the input are seeded.

    Example::

        >>> import torch
        >>> from snntorch_ext.bench.training import training_step
        >>> step, x = training_step("asf", {"T": 2, "batch": 2}, "asf", torch.device("cpu"))
        >>> step(x)
    """
    if group not in BUILDERS:
        raise ValueError(f"group must be one of {sorted(BUILDERS)}, got {group!r}")
    torch.manual_seed(0)
    return BUILDERS[group](params, path, device, torch.Generator().manual_seed(1))
