"""Run outputs: per-epoch metrics (JSON lines and CSV), the summary, and the curves plot."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

__all__ = ["METRIC_FIELDS", "plot_curves", "write_json", "write_metrics"]

METRIC_FIELDS = ("epoch", "train_loss", "train_acc", "test_acc", "firing_rate", "lr", "seconds")


def write_json(obj: Any, path: str | os.PathLike) -> None:
    """Write ``obj`` as indented JSON, atomically (temp file + rename)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(obj, indent=2) + "\n")
    os.replace(tmp, path)


def write_metrics(rows: list[dict[str, Any]], out: str | os.PathLike) -> None:
    """Write all epochs' rows to ``metrics.jsonl`` and ``metrics.csv`` in ``out`` (atomically)."""
    out = Path(out)
    jsonl = out / "metrics.jsonl"
    tmp = jsonl.with_name(f".{jsonl.name}.tmp-{os.getpid()}")
    tmp.write_text("".join(json.dumps(row) + "\n" for row in rows))
    os.replace(tmp, jsonl)
    table = out / "metrics.csv"
    tmp = table.with_name(f".{table.name}.tmp-{os.getpid()}")
    with tmp.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=METRIC_FIELDS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, table)


def plot_curves(rows: list[dict[str, Any]], path: str | os.PathLike, title: str) -> None:
    """Plot training loss and train/test accuracy per epoch to ``path`` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [row["epoch"] for row in rows]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.5))
    ax_loss.plot(epochs, [row["train_loss"] for row in rows], marker="o")
    ax_loss.set(xlabel="epoch", ylabel="training loss", title="loss")
    ax_acc.plot(epochs, [row["train_acc"] for row in rows], marker="o", label="train")
    ax_acc.plot(epochs, [row["test_acc"] for row in rows], marker="o", label="test")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    ax_acc.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
