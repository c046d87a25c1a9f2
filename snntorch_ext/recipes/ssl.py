"""Spike-sequence-label STBP, JEIT 2024: N-MNIST (van Rossum, Hamming, STBP row) and CIFAR10."""

from ._recipe import Recipe, percent

SSL_PAPER = ("Spiking sequence label-based spatio-temporal back-propagation algorithm for "
             "training deep spiking neural networks, JEIT 2024")

_PSP_NEURON = {  # ours, after TSSL-BP; the surrogate too (see PSPLeaky)
    "neuron": "snntorch_ext:PSPLeaky",
    "neuron_kwargs": {"tau_m": 8.0, "tau_s": 4.0, "threshold": 1.0},
    "spike_grad": "snntorch_ext.surrogate:atan",
    "spike_grad_kwargs": {"alpha": 2.0},
}
_TRAINING = {  # the paper gives none of these: our choice
    "batch_size": 50,
    "optimizer": "torch.optim:Adam",
    "optimizer_kwargs": {"lr": 1e-3},
    "schedule": "cosine",
    "schedule_kwargs": {},
    "predict": "snntorch_ext.functional:spike_train_scores",
}
_VAN_ROSSUM = {"loss": "snntorch_ext.functional:van_rossum_loss",
               "loss_kwargs": {"tau": 4.0, "pattern": [0, 1]}}
_HAMMING = {"loss": "snntorch_ext.functional:hamming_loss", "loss_kwargs": {"pattern": [0, 1]}}
_NMNIST = {  # N-MNIST event frames [T, 2, 34, 34] straight into the first convolution
    "dataset": "snntorch_ext.data:nmnist",
    "num_classes": 10,
    "network": "snntorch_ext.models:ssl_nmnist",
    "encoder": "snntorch_ext.functional:time_major",
}
# Quick variant: one epoch on synthetic N-MNIST (the 4,000 + 1,000 offline MNIST digits
# recorded by simulated saccades, frames [T, 2, 34, 34], same network and T).
_QUICK_NMNIST = {"dataset": "snntorch_ext.data:nmnist_synthetic", "epochs": 1}
_OURS = ("Our choices (the paper gives only the layer string, T and the epochs): target trains "
         "with the label neuron spiking at every second step (pattern 0, 1), van Rossum filter "
         "tau = 4 steps, tau_m = 8, tau_s = 4, threshold 1 (after TSSL-BP), arctan "
         "surrogate, valid 5x5 convolutions with average pooling of the PSP, Adam lr 1e-3 with "
         "a cosine schedule, batch 50; accuracy = nearest target train (van Rossum).")

RECIPES = [
    Recipe(
        name="ssl-nmnist-vanrossum",
        paper=SSL_PAPER,
        table=f"Table 3, N-MNIST, 12C5-P2-64C5-P2, T = 25, 100 epochs, van Rossum: "
              f"{percent(98.61)}",
        paper_value=98.61,
        num_steps=25,
        epochs=100,
        notes=_OURS + " Quick: synthetic N-MNIST (offline), 1 epoch.",
        quick=_QUICK_NMNIST,
        **_NMNIST, **_PSP_NEURON, **_VAN_ROSSUM, **_TRAINING,
    ),
    Recipe(
        name="ssl-nmnist-hamming",
        paper=SSL_PAPER,
        table=f"Table 4, N-MNIST, 12C5-P2-64C5-P2, T = 25, 100 epochs, Hamming: "
              f"{percent(98.67)}",
        paper_value=98.67,
        num_steps=25,
        epochs=100,
        notes=_OURS + " Quick: synthetic N-MNIST (offline), 1 epoch.",
        quick=_QUICK_NMNIST,
        **_NMNIST, **_PSP_NEURON, **_HAMMING, **_TRAINING,
    ),
    Recipe(
        name="stbp-nmnist",
        paper=SSL_PAPER,
        table=f"Tables 3-4, STBP comparison row, N-MNIST, 12C5-P2-64C5-P2, T = 50, 150 epochs: "
              f"{percent(98.19)}",
        paper_value=98.19,
        num_steps=50,
        epochs=150,
        batch_size=50,
        neuron="snntorch:Leaky",
        neuron_kwargs={"beta": 0.2, "threshold": 0.5, "reset_mechanism": "zero"},
        spike_grad="snntorch_ext.surrogate:rectangular",
        spike_grad_kwargs={"width": 1.0},
        loss="snntorch.functional:mse_count_loss",
        loss_kwargs={"correct_rate": 1.0, "incorrect_rate": 0.0},
        optimizer="torch.optim:Adam",
        optimizer_kwargs={"lr": 1e-3},
        schedule="cosine",
        notes="STBP (Wu et al. 2018) on the paper's N-MNIST network: the neuron, surrogate and "
              "rate loss of the STBP code (decay 0.2, threshold 0.5, rectangle of width 1, MSE "
              "between output rates and one-hot targets), as in the stbp-mnist recipe; the "
              "optimiser, schedule and batch are our choice. Quick: synthetic N-MNIST (offline), "
              "1 epoch.",
        quick=_QUICK_NMNIST,
        **_NMNIST,
    ),
    Recipe(
        name="ssl-cifar10-vanrossum",
        paper=SSL_PAPER,
        table="Table 1, CIFAR10, van Rossum (the paper's network and numbers are not available "
              "to us)",
        dataset="snntorch_ext.data:cifar10",
        num_classes=10,
        network="snntorch_ext.models:ssl_cifar10",
        encoder="snntorch_ext.functional:direct",
        num_steps=25,
        epochs=100,
        notes=_OURS.replace("valid 5x5 convolutions", "TSSL-BP's CIFAR10 CNN1 with 3x3 "
                            "convolutions, 5x PyTorch's initial weights, T = 25, 100 epochs, "
                            "image repeated at every step")
        + " Quick: a narrow network on the offline MNIST digits, T = 10, 1 epoch (a smoke run, "
          "not the result).",
        quick={"dataset": "snntorch_ext.data:mnist_offline", "num_steps": 10, "epochs": 1,
               "network_kwargs": {"size": 28, "channels": [16, 32, 32, 32, 32],
                                  "hidden": [128, 128]}},
        **_PSP_NEURON, **_VAN_ROSSUM, **_TRAINING,
    ),
    Recipe(
        name="ssl-cifar10-hamming",
        paper=SSL_PAPER,
        table="Table 2, CIFAR10, Hamming (the paper's network and numbers are not available "
              "to us)",
        dataset="snntorch_ext.data:cifar10",
        num_classes=10,
        network="snntorch_ext.models:ssl_cifar10",
        encoder="snntorch_ext.functional:direct",
        num_steps=25,
        epochs=100,
        notes=_OURS.replace("valid 5x5 convolutions", "TSSL-BP's CIFAR10 CNN1 with 3x3 "
                            "convolutions, 5x PyTorch's initial weights, T = 25, 100 epochs, "
                            "image repeated at every step")
        + " Quick: a narrow network on the offline MNIST digits, T = 10, 1 epoch (a smoke run, "
          "not the result).",
        quick={"dataset": "snntorch_ext.data:mnist_offline", "num_steps": 10, "epochs": 1,
               "network_kwargs": {"size": 28, "channels": [16, 32, 32, 32, 32],
                                  "hidden": [128, 128]}},
        **_PSP_NEURON, **_HAMMING, **_TRAINING,
    ),
]
