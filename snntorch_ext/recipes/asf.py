"""Accumulated spiking flow, Wu et al. AAAI 2021: the MNIST (IF, LIF) and CIFAR-10 rows, and a
sweep of our own over T (the paper reports T = 100 only)."""

from ._recipe import Recipe, percent

ASF_PAPER = "Wu et al. 2021, AAAI (ASF: training SNNs with accumulated spiking flow)"

_REFERENCE = {  # the reference settings shared by every row
    "num_steps": 100,
    "epochs": 125,
    "batch_size": 64,
    "encoder": "snntorch_ext.functional:signed_poisson",
    "encoder_kwargs": {"gain": 0.5},
    "wrapper": "snntorch_ext:ASF",
    "wrapper_kwargs": {"output_threshold": 1.0, "ratio_momentum": 0.6},
    "loss": "snntorch_ext.functional:asf_mse_loss",
    "optimizer": "torch.optim:Adam",
    "optimizer_kwargs": {"lr": 8.5e-4, "weight_decay": 5e-4},
    "schedule": "step",
    "schedule_kwargs": {"milestones": [25], "gamma": 0.2},
    "neuron": "snntorch:Leaky",
}
_IF = {"beta": 1.0, "threshold": 1.0, "reset_mechanism": "zero"}
_LIF = {"beta": 0.95, "threshold": 1.0, "reset_mechanism": "zero"}
_QUICK_MNIST = {"dataset": "snntorch_ext.data:mnist_offline", "num_steps": 20, "epochs": 8,
                "optimizer_kwargs": {"lr": 2e-3, "weight_decay": 0.0},
                "schedule": "cosine", "schedule_kwargs": {}}
_NOTES = ("Settings of the authors' reference code: no bias, threshold 1, reset to zero (Eq. 4), "
          "T = 100, signed Poisson input at rate x/2, Adam lr 8.5e-4 with weight decay 5e-4, "
          "lr x0.2 from epoch 25 (0-based milestone), batch 64, IF pooling neurons of threshold "
          "0.75 after each average pooling. ")

RECIPES = [
    Recipe(
        name="asf-mnist-if",
        paper=ASF_PAPER,
        table=f"Fig. 3, MNIST, 20C5-P2-50C5-P2-200FC-10FC, IF: {percent(99.65)}",
        paper_value=99.65,
        dataset="snntorch_ext.data:mnist",
        num_classes=10,
        network="snntorch_ext.models:asf_lenet",
        neuron_kwargs=_IF,
        notes=_NOTES + "Quick: the offline digits, T = 20, 8 epochs, lr 2e-3 cosine.",
        quick=_QUICK_MNIST,
        **_REFERENCE,
    ),
    Recipe(
        name="asf-mnist-lif",
        paper=ASF_PAPER,
        table=f"Fig. 3, MNIST, 20C5-P2-50C5-P2-200FC-10FC, LIF: {percent(99.6)}",
        paper_value=99.6,
        dataset="snntorch_ext.data:mnist",
        num_classes=10,
        network="snntorch_ext.models:asf_lenet",
        neuron_kwargs=_LIF,
        notes=_NOTES + "LIF leak beta = 0.95 is our choice (the paper does not give tau). "
                       "Quick: the offline digits, T = 20, 8 epochs, lr 2e-3 cosine.",
        quick=_QUICK_MNIST,
        **_REFERENCE,
    ),
    Recipe(
        name="asf-cifar10",
        paper=ASF_PAPER,
        table=f"Fig. 4, CIFAR-10, IF: {percent(91.35)}",
        paper_value=91.35,
        dataset="snntorch_ext.data:cifar10",
        num_classes=10,
        network="snntorch_ext.models:asf_vgg7",
        neuron_kwargs=_IF,
        notes=_NOTES + "The paper does not give the CIFAR-10 network: asf_vgg7 is the usual "
                       "VGG-7 with ASF's pooling neurons (our choice). Quick: a narrow VGG-7 "
                       "on the offline digits, T = 10, 2 epochs (a smoke run, not the result).",
        quick={"dataset": "snntorch_ext.data:mnist_offline", "num_steps": 10, "epochs": 2,
               "network_kwargs": {"size": 28, "width": 16, "hidden": 128},
               "optimizer_kwargs": {"lr": 2e-3, "weight_decay": 0.0},
               "schedule": "constant", "schedule_kwargs": {}},
        **_REFERENCE,
    ),
]

T_SWEEP = (10, 20, 50, 100)  # full runs; the quick variants use T / 5
RECIPES += [
    Recipe(
        name=f"asf-mnist-if-t{steps}",
        paper=ASF_PAPER,
        table=f"Accuracy against T, MNIST, IF, T = {steps} (our sweep: the paper reports "
              f"T = 100 only, {percent(99.65)})",
        dataset="snntorch_ext.data:mnist",
        num_classes=10,
        network="snntorch_ext.models:asf_lenet",
        neuron_kwargs=_IF,
        notes=_NOTES.replace("T = 100", f"T = {steps}") + "A sweep of our own over T; the paper "
              f"gives only T = 100 (asf-mnist-if). Quick: the offline digits, T = {steps // 5}, "
              f"2 epochs, lr 2e-3 cosine.",
        quick={**_QUICK_MNIST, "num_steps": steps // 5, "epochs": 2},
        **{**_REFERENCE, "num_steps": steps},
    )
    for steps in T_SWEEP
]
