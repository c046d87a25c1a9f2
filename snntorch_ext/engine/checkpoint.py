"""Atomic checkpoints, loaded with ``weights_only=True``."""

from __future__ import annotations

import os
import pickle
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch

__all__ = ["LAST_KEYS", "load_checkpoint", "save_atomic"]

LAST_KEYS = ("recipe", "config", "epoch", "model", "optimizer", "best_test_acc", "rows")
"""The entries of ``last.pt`` that a resumed run reads."""


def save_atomic(obj: Any, path: str | os.PathLike) -> None:
    """``torch.save`` to a temporary file in the same folder, then rename it over ``path``.

    A crash while writing leaves the previous file intact; readers never see half a file.

    Example::

        >>> from snntorch_ext.engine import save_atomic
        >>> save_atomic({"epoch": 1}, "/tmp/last.pt")  # doctest: +SKIP
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def load_checkpoint(path: str | os.PathLike, keys: Iterable[str] = ("model", "recipe")
                    ) -> dict[str, Any]:
    """Load a checkpoint with ``weights_only=True``; a file that is not one is a ValueError.

    Nothing in the file is run: a file that needs more than tensors and plain containers to
    load is refused, as is a dictionary without every entry of ``keys``.

    Example::

        >>> from snntorch_ext.engine import load_checkpoint
        >>> ckpt = load_checkpoint("runs/stbp-mnist-quick/last.pt")  # doctest: +SKIP
    """
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile) as err:
        raise ValueError(f"checkpoint {path} is unreadable: it is not a checkpoint of "
                         f"snntorch-ext or it is damaged ({type(err).__name__}); nothing in it "
                         f"was run") from None
    if not isinstance(ckpt, dict):
        raise ValueError(f"checkpoint {path} is not a checkpoint of snntorch-ext")
    missing = [key for key in keys if key not in ckpt]
    if missing:
        raise ValueError(f"checkpoint {path} is not a complete checkpoint of snntorch-ext "
                         f"(it lacks {', '.join(missing)})")
    return ckpt
