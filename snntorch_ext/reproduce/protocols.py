r"""The effect protocols of the four papers: which claim, which arms, on which CPU-sized data.

Each arm takes the rule's fields from the recipe of the paper's row (so the settings, like the
paper's figures, are written once, in the recipes); the protocol only shrinks the data and the
training to fit about two CPU minutes per run.

Example::

    >>> import snntorch_ext as snx
    >>> len(snx.reproduce.PROTOCOLS), snx.reproduce.PROTOCOLS["msg-ablation"].claims[0]
    (8, ('none', 'MSG'))
"""

from __future__ import annotations

from typing import Any

from ..recipes import get
from .effects import Arm, Protocol

__all__ = ["PROTOCOLS"]

_RULE_FIELDS = ("neuron", "neuron_kwargs", "spike_grad", "spike_grad_kwargs", "wrapper",
                "wrapper_kwargs", "decoder", "decoder_kwargs", "loss", "loss_kwargs", "predict")


def _rule_of(recipe: str, *fields: str) -> dict[str, Any]:
    """The rule's fields of ``recipe`` (its full, not its quick, variant)."""
    full = get(recipe)
    return {field: getattr(full, field) for field in fields or _RULE_FIELDS}


def _bpsta_arms() -> tuple[Arm, ...]:
    return tuple(Arm(name, _rule_of(f"bpsta-ablation-{rule}", "neuron_kwargs", "spike_grad",
                                    "spike_grad_kwargs"), f"bpsta-ablation-{rule}")
                 for name, rule in (("baseline", "baseline"), ("bpsa", "bpsa"),
                                    ("bpsa+bpta", "bpsta")))


_BPSTA_CLAIMS = (("baseline", "bpsa"), ("bpsa", "bpsa+bpta"), ("baseline", "bpsa+bpta"))


def _authors_alpha_arm() -> Arm:
    """BPSA+BPTA with the residual weight of the authors' released code (0.2, not 0.8)."""
    rule = _rule_of("bpsta-ablation-bpsta", "neuron_kwargs", "spike_grad", "spike_grad_kwargs")
    return Arm("bpsa+bpta alpha=0.2",
               {**rule, "neuron_kwargs": {**rule["neuron_kwargs"], "alpha": 0.2}})
_BPSTA_CLAIM = ("Table 8: BPSA beats the STBP-style baseline and BPTA adds to BPSA "
                "(DVS-Gesture in the paper).")


def _msg_arms() -> tuple[Arm, ...]:
    arms = []
    for name, recipe in (("none", "none"), ("TWO", "two"), ("MSG", "msg"),
                         ("MSG+TWO", "msg-two")):
        quick = get(f"msg-ablation-{recipe}").quick_variant()
        arms.append(Arm(name, {"spike_grad_kwargs": quick.spike_grad_kwargs,
                               "decoder_kwargs": quick.decoder_kwargs},
                        f"msg-ablation-{recipe}"))
    return tuple(arms)



# Table 2's four arms and claims, shared by the MSG protocols that differ only in data and epochs.
_MSG_TABLE2 = {"recipe": "msg-ablation-none", "arms": _msg_arms(), "lrs": (3e-3, 1e-2),
               "claims": (("none", "MSG"), ("none", "TWO"), ("none", "MSG+TWO"),
                          ("MSG", "MSG+TWO"))}


def _latency_arms() -> tuple[Arm, ...]:
    return tuple(Arm(f"{name} T=2", {**_rule_of(f"bpsta-ablation-{rule}", "neuron_kwargs",
                                                  "spike_grad", "spike_grad_kwargs"),
                                      "num_steps": 2}, f"bpsta-latency-{rule}-t4")
                 for name, rule in (("baseline", "baseline"), ("bpsa+bpta", "bpsta")))


def _mask_arms() -> tuple[Arm, ...]:
    arms = []
    for p in ("0.0", "0.5", "0.9"):
        quick = get(f"msg-psweep-resnet18-atan-p{p}").quick_variant()
        arms.append(Arm(f"p={p}", {"spike_grad_kwargs": quick.spike_grad_kwargs,
                                   "decoder_kwargs": quick.decoder_kwargs}))
    return tuple(arms)


def _ssl_arms() -> tuple[Arm, ...]:
    return (Arm("STBP rate", _rule_of("stbp-nmnist"), "stbp-nmnist"),
            Arm("van Rossum", _rule_of("ssl-nmnist-vanrossum"), "ssl-nmnist-vanrossum"),
            Arm("Hamming", _rule_of("ssl-nmnist-hamming"), "ssl-nmnist-hamming"))


def _asf_arms() -> tuple[Arm, ...]:
    bptt = {"wrapper": "snntorch_ext.asf:BPTT", "wrapper_kwargs": {},
            **_rule_of("stbp-mnist", "spike_grad", "spike_grad_kwargs")}
    return (Arm("BPTT", bptt, "stbp-mnist"), Arm("ASF", {}, "asf-mnist-if"))


_PROTOCOLS = (
    Protocol(
        key="bpsta-digits", paper="bpsta", claim=_BPSTA_CLAIM, recipe="bpsta-mnist",
        arms=_bpsta_arms(), claims=_BPSTA_CLAIMS, lrs=(3e-4, 1e-3, 3e-3),
        settings={"epochs": 5},
        notes="The quick Small network on the offline digits (3,500 to train, 500 to validate, "
              "1,000 to test), T = 4, 5 epochs, AdamW with a cosine schedule after one warm-up "
              "epoch."),
    Protocol(
        key="bpsta-events", paper="bpsta", claim=_BPSTA_CLAIM, recipe="bpsta-nmnist",
        arms=(*_bpsta_arms(), _authors_alpha_arm()),
        claims=(*_BPSTA_CLAIMS, ("bpsa", "bpsa+bpta alpha=0.2")), lrs=(3e-4, 1e-3, 3e-3),
        settings={"dataset": "snntorch_ext.data:balanced_subset",
                  "dataset_kwargs": {"dataset": "snntorch_ext.data:nmnist_synthetic",
                                     "train_size": 2500, "test_size": 1000},
                  "epochs": 6},
        notes="The quick Middle network on synthetic N-MNIST (2,000 to train, 500 to validate, "
              "1,000 to test), T = 8, 6 epochs. The fourth arm uses the residual weight "
              "alpha = 0.2 of the authors' released code instead of the paper's 0.8."),
    Protocol(
        key="bpsta-latency", paper="bpsta",
        claim="Table 9: at few time steps BPSA+BPTA keeps its accuracy while the baseline "
              "loses much of it (the paper's smallest T is 4; paper figures are its T = 4 row).",
        recipe="bpsta-mnist", arms=_latency_arms(),
        claims=(("baseline T=2", "bpsa+bpta T=2"),), lrs=(3e-4, 1e-3, 3e-3),
        settings={"epochs": 5},
        notes="As bpsta-digits (the offline digits, 5 epochs) with T = 2 instead of 4; compare "
              "the gap between the arms with bpsta-digits' at T = 4."),
    Protocol(
        key="msg-ablation", paper="msg",
        claim="Table 2: MSG and TWO each beat plain training and together are best.",
        **_MSG_TABLE2, settings={"epochs": 12, "dataset_kwargs": {"train_size": 1000}},
        notes="ResNet18 at 1/16 width on 16 x 16 frames of synthetic N-MNIST (500 to train, "
              "500 to validate, 500 to test: small data, where the paper says MSG helps "
              "generalisation), T = 10, 12 epochs."),
    Protocol(
        key="msg-small-data", paper="msg",
        claim="Table 2, where generalisation matters: with few training samples and long "
              "training, MSG and TWO each beat plain training.",
        **_MSG_TABLE2,
        settings={"epochs": 40, "batch_size": 10, "dataset_kwargs": {"train_size": 600}},
        notes="As msg-ablation with 100 recordings to train (10 per class), batch 10 and 40 "
              "epochs, so that plain training can overfit."),
    Protocol(
        key="msg-mask-p", paper="msg",
        claim="Fig. 5: accuracy is best for a mask probability p in 0.4-0.6; p near 0 (no mask) "
              "and p near 1 (almost no gradient) are worse.",
        recipe="msg-ablation-none", arms=_mask_arms(),
        claims=(("p=0.0", "p=0.5"), ("p=0.9", "p=0.5")), lrs=(3e-3, 1e-2),
        settings={"epochs": 12, "dataset_kwargs": {"train_size": 1000}},
        notes="As msg-ablation, MSG+TWO with p in 0, 0.5 and 0.9 (the figure has no numbers)."),
    Protocol(
        key="asf-vs-bptt", paper="asf",
        claim="Fig. 3: ASF trains the 20C5-P2-50C5-P2-200FC-10FC network at least as well as "
              "BPTT (STBP, Wu et al. 2018).",
        recipe="asf-mnist-if", arms=_asf_arms(), claims=(("BPTT", "ASF"),),
        lrs=(1e-3, 3e-3), settings={"epochs": 4},
        notes="IF neurons, the offline digits (3,500 / 500 / 1,000), T = 20, 4 epochs; both arms "
              "minimise the same loss (the accumulated output current against the one-hot "
              "target); BPTT uses STBP's rectangle surrogate."),
    Protocol(
        key="ssl-losses", paper="ssl",
        claim="Tables 3-4: spike-train labels with the van Rossum or the Hamming distance beat "
              "STBP's rate coding on N-MNIST.",
        recipe="ssl-nmnist-vanrossum", arms=_ssl_arms(),
        claims=(("STBP rate", "van Rossum"), ("STBP rate", "Hamming")),
        lrs=(1e-3, 3e-3),
        settings={"dataset": "snntorch_ext.data:balanced_subset",
                  "dataset_kwargs": {"dataset": "snntorch_ext.data:nmnist_synthetic",
                                     "train_size": 2000, "test_size": 500},
                  "num_steps": 12, "epochs": 4},
        notes="The paper's 12C5-P2-64C5-P2 network on synthetic N-MNIST (1,500 / 500 / 500), "
              "T = 12 for every arm (the paper: 25 for ours, 50 for STBP), 4 epochs."),
)

#: The effect protocols by key (``snntorch-ext effects`` lists them).
PROTOCOLS: dict[str, Protocol] = {protocol.key: protocol for protocol in _PROTOCOLS}
