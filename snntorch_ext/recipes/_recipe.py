"""The :class:`Recipe` dataclass: one paper table row as data (internal module)."""

from __future__ import annotations

import dataclasses
import importlib
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Recipe", "percent", "resolve"]


def resolve(path: str) -> Any:
    """Import ``"package.module:attribute"`` and return the attribute.

    Recipes name their parts (data set, network, neuron, loss, ...) by such import paths, so a
    recipe stays plain data that is printed, compared and stored in JSON, and a user's own
    recipe can point at the user's own code.

    Example::

        >>> from snntorch_ext.recipes import resolve
        >>> resolve("snntorch_ext.surrogate:rectangular")(width=1.0)
        rectangular(width=1.0)
    """
    module_name, sep, attribute = path.partition(":")
    if not sep or not module_name or not attribute:
        raise ValueError(f"import path must look like 'package.module:name', got {path!r}")
    try:
        obj = importlib.import_module(module_name)
        for part in attribute.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as err:
        raise ValueError(f"cannot import {path!r}: {err}") from None
    return obj


def percent(value: float, sd: float | None = None) -> str:
    """A paper's figure as the recipes' table rows print it: ``99.58 +- 0.06%``.

    Example::

        >>> from snntorch_ext.recipes._recipe import percent
        >>> percent(99.58, 0.06), percent(92.15)
        ('99.58 +- 0.06%', '92.15%')
    """
    return f"{value:.2f}%" if sd is None else f"{value:.2f} +- {sd:.2f}%"


@dataclass(frozen=True)
class Recipe:
    """One experiment of a paper, as data.

    Every callable is named by an import path ``"module:name"`` (see :func:`resolve`) and built
    with its ``*_kwargs``. How the engine uses the fields, for a batch ``(x, labels)``:

    0. ``dataset(root, train, download, **dataset_kwargs)`` gives the data; a factory that takes
       a ``num_steps`` argument (event frames) also gets ``num_steps``;
    1. ``x = encoder(x, num_steps, **encoder_kwargs)`` gives ``[T, B, ...]``;
    2. ``out = model(x)`` with ``network(in_channels, num_classes, neuron=..., **network_kwargs)``,
       where ``neuron`` is a zero-argument factory of ``neuron(init_hidden=True, spike_grad=...,
       **neuron_kwargs)`` (omitted if ``neuron`` is ``None``), wrapped as
       ``wrapper(network, num_steps=num_steps, **wrapper_kwargs)`` if ``wrapper`` is set (ASF);
    3. ``out = decoder(out)`` if a decoder is set (a decoder with ``observe``/``step``, such as
       TWO, is fed every training batch and stepped every epoch);
    4. ``loss = loss(**loss_kwargs)(out, labels)`` and ``scores = predict(out)`` (``[B, C]``, for
       accuracy).

    ``quick`` holds the field overrides of the CPU quick variant (``--quick``). ``group`` names
    the block of a paper's table that the recipe is a row of (e.g. one of the three blocks of
    the MSG paper's Table 2), empty if it stands alone; ``snntorch-ext list`` shows it.

    The paper's own figures for the row live here and nowhere else: ``paper_value`` (with
    ``paper_sd`` where the paper gives one) is the number in the paper's table, in the unit of
    ``paper_metric``; ``paper_firing_rate`` and ``paper_energy_ratio`` are the firing rate and
    :math:`E_{ANN}/E_{SNN}` where the paper reports them; ``None`` where the paper gives no
    number (a curve in a figure, or a table not available to us). ``snntorch-ext report``
    compares finished runs with them.

    Example::

        >>> import dataclasses, snntorch_ext as snx
        >>> stbp = snx.recipes.get("stbp-mnist")
        >>> mine = dataclasses.replace(stbp, name="stbp-mnist-atan",
        ...                            spike_grad="snntorch.surrogate:atan", spike_grad_kwargs={})
        >>> summary = snx.engine.train(mine, quick=True)  # doctest: +SKIP
    """

    name: str
    paper: str
    table: str
    dataset: str
    num_classes: int
    network: str
    num_steps: int
    epochs: int
    batch_size: int
    loss: str
    dataset_kwargs: dict[str, Any] = field(default_factory=dict)
    encoder: str = "snntorch_ext.functional:direct"
    encoder_kwargs: dict[str, Any] = field(default_factory=dict)
    network_kwargs: dict[str, Any] = field(default_factory=dict)
    neuron: str | None = None
    neuron_kwargs: dict[str, Any] = field(default_factory=dict)
    spike_grad: str | None = None
    spike_grad_kwargs: dict[str, Any] = field(default_factory=dict)
    wrapper: str | None = None
    wrapper_kwargs: dict[str, Any] = field(default_factory=dict)
    decoder: str | None = None
    decoder_kwargs: dict[str, Any] = field(default_factory=dict)
    loss_kwargs: dict[str, Any] = field(default_factory=dict)
    predict: str = "snntorch_ext.functional:rate_scores"
    optimizer: str = "torch.optim:Adam"
    optimizer_kwargs: dict[str, Any] = field(default_factory=lambda: {"lr": 1e-3})
    schedule: str = "cosine"
    schedule_kwargs: dict[str, Any] = field(default_factory=dict)
    notes: str = ""
    quick: dict[str, Any] = field(default_factory=dict)
    group: str = ""
    paper_value: float | None = None
    paper_sd: float | None = None
    paper_metric: str = "test accuracy (%)"
    paper_firing_rate: float | None = None
    paper_energy_ratio: float | None = None

    def quick_variant(self) -> Recipe:
        """This recipe with the ``quick`` overrides applied (and ``quick`` emptied)."""
        unknown = set(self.quick) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ValueError(
                f"recipe {self.name!r}: quick overrides unknown fields {sorted(unknown)}"
            )
        return dataclasses.replace(self, **{**self.quick, "quick": {}})

    def to_dict(self) -> dict[str, Any]:
        """The recipe as a JSON-serialisable dict."""
        return dataclasses.asdict(self)
