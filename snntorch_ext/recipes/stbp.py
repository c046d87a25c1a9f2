"""The STBP baseline (Wu et al. 2018) that all four papers compare against."""

from ._recipe import Recipe, percent

STBP = "Wu et al. 2018, Front. Neurosci. 12:331 (STBP)"

RECIPES = [
    Recipe(
        name="stbp-mnist",
        paper=STBP,
        table=f"MNIST, CNN of the reference code (the baseline row of every paper); the paper "
              f"reports {percent(99.42)} with its 15C5-P2-40C5-P2-300FC-10FC network",
        paper_value=99.42,
        dataset="snntorch_ext.data:mnist",
        num_classes=10,
        network="snntorch_ext.models:stbp_cnn",
        neuron="snntorch:Leaky",
        neuron_kwargs={"beta": 0.2, "threshold": 0.5, "reset_mechanism": "zero"},
        spike_grad="snntorch_ext.surrogate:rectangular",
        spike_grad_kwargs={"width": 1.0},
        encoder="snntorch_ext.functional:rate",
        num_steps=8,
        epochs=100,
        batch_size=100,
        loss="snntorch.functional:mse_count_loss",
        loss_kwargs={"correct_rate": 1.0, "incorrect_rate": 0.0},
        optimizer="torch.optim:Adam",
        optimizer_kwargs={"lr": 1e-3},
        schedule="step",
        schedule_kwargs={"milestones": [40, 80], "gamma": 0.1},
        notes="Poisson input, MSE between output spike counts and one-hot counts, as in the "
              "authors' released code (decay 0.2, threshold 0.5, rectangle of width 1).",
        quick={"dataset": "snntorch_ext.data:mnist_offline", "epochs": 5, "batch_size": 50},
    ),
]
