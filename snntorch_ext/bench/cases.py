"""The benchmark cases, as plain data: which group, neuron or network, path and sizes.

A case is a dict with ``group`` (``layer``, ``network``, ``asf``, ``msg``), ``name`` (the
neuron, network or variant), ``path``, ``T``, the sizes of its group, ``warmup`` and
``repeats``; its ``id`` (``group/name/path/T=..``) selects it with ``--cases``.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from typing import Any

from .layer import FLOOR, NEURONS, SPIKINGJELLY
from .training import MSG_NEURONS

__all__ = ["case_id", "select_cases"]

Case = dict[str, Any]

LAYER_STEPS = {"full": (8, 16, 32), "quick": (8,)}
LAYER_SHAPE = {"full": (64, 4096), "quick": (8, 512)}
TIMING = {  # (warm-up, repeats) per group
    "full": {"layer": (2, 10), "network": (1, 5), "asf": (1, 5), "msg": (2, 7)},
    "quick": {"layer": (1, 3), "network": (1, 2), "asf": (1, 2), "msg": (1, 2)},
}
NETWORKS = {  # sizes of the network group; batch 32 everywhere but quick
    ("full", "cuda"): [{"network": "stbp_cnn", "T": 8, "batch": 32},
                       {"network": "resnet18", "T": 10, "batch": 32, "width": 1.0, "size": 48}],
    ("full", "cpu"): [{"network": "stbp_cnn", "T": 8, "batch": 32},
                      {"network": "resnet18", "T": 10, "batch": 32, "width": 0.25, "size": 48}],
    ("quick", "any"): [{"network": "stbp_cnn", "T": 4, "batch": 8},
                       {"network": "resnet18", "T": 4, "batch": 8, "width": 1 / 16,
                        "size": 16}],
}
ASF_STEPS = {"full": (8, 16, 32, 64), "quick": (4,)}
ASF_BATCH = {"full": 64, "quick": 8}
MSG_CONFIGS = {  # the paper's VGGSNN (full on CUDA, a quarter of the width on CPU) and quick
    ("full", "cuda"): {"vggsnn-full": {"network": "vggsnn", "width": 1.0, "size": 48, "T": 10,
                                       "batch": 32},
                       "resnet18-quick": {"network": "resnet18", "width": 1 / 16, "size": 16,
                                          "T": 10, "batch": 50}},
    ("full", "cpu"): {"vggsnn-quarter": {"network": "vggsnn", "width": 0.25, "size": 48,
                                         "T": 10, "batch": 16},
                      "resnet18-quick": {"network": "resnet18", "width": 1 / 16, "size": 16,
                                         "T": 10, "batch": 50}},
    ("quick", "any"): {"resnet18-tiny": {"network": "resnet18", "width": 1 / 16, "size": 16,
                                         "T": 4, "batch": 8}},
}


def case_id(case: Case) -> str:
    """``group/name/path/T=..`` (plus the MSG configuration), the key ``--cases`` matches.

    Example::

        >>> from snntorch_ext.bench.cases import case_id
        >>> case_id({"group": "layer", "name": "MSGLeaky", "path": "fused", "T": 32})
        'layer/MSGLeaky/fused/T=32'
    """
    config = f"{case['config']}/" if "config" in case else ""
    return f"{case['group']}/{config}{case['name']}/{case['path']}/T={case['T']}"


def _layer_cases(size: str, device: str, multi_step: Sequence[str]) -> list[Case]:
    batch, width = LAYER_SHAPE[size]
    cases = []
    for steps in LAYER_STEPS[size]:
        sizes = {"group": "layer", "T": steps, "batch": batch, "width": width}
        for name in NEURONS:
            for path in ("snntorch-loop", "per-step", *multi_step):
                cases.append({**sizes, "name": name, "path": path})
        cases.append({**sizes, "name": SPIKINGJELLY, "path": "multi-step"})
        cases.append({**sizes, "name": FLOOR, "path": "multi-step"})
    return cases


def _all_cases(size: str, device: str) -> list[Case]:
    multi_step = ("fused", "triton") if device == "cuda" else ("fused",)
    kind = (size, device) if size == "full" else (size, "any")
    cases = _layer_cases(size, device, multi_step)
    for params in NETWORKS[kind]:
        for path in ("per-step", *multi_step):
            cases.append({**params, "group": "network", "name": params["network"],
                          "path": path})
    for steps in ASF_STEPS[size]:
        for path in ("asf", "bptt per-step", *(f"bptt {p}" for p in multi_step)):
            cases.append({"group": "asf", "name": "asf_lenet", "path": path, "T": steps,
                          "batch": ASF_BATCH[size]})
    for config, params in MSG_CONFIGS[kind].items():
        for variant in MSG_NEURONS:
            cases.append({**params, "group": "msg", "config": config, "name": variant,
                          "variant": variant, "path": "auto"})
    for case in cases:
        case["warmup"], case["repeats"] = TIMING[size][case["group"]]
    return cases


def select_cases(quick: bool, device: str, patterns: Sequence[str] = ()) -> list[Case]:
    """The cases of one run, in order; ``patterns`` (shell globs on :func:`case_id`) filter.

    Raises ``ValueError`` when patterns are given and match no case.

    Example::

        >>> from snntorch_ext.bench.cases import select_cases
        >>> [c["path"] for c in select_cases(True, "cpu", ["layer/snn.Leaky/*"])]
        ['snntorch-loop', 'per-step', 'fused']
    """
    cases = _all_cases("quick" if quick else "full", device)
    if not patterns:
        return cases
    chosen = [c for c in cases if any(fnmatch.fnmatchcase(case_id(c), p) for p in patterns)]
    if not chosen:
        raise ValueError(f"cases {list(patterns)!r} match no benchmark case; the ids look like "
                         f"{case_id(cases[0])!r}")
    return chosen
