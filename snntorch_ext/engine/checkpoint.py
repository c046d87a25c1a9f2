"""Atomic checkpoints, loaded with ``weights_only=True``."""

from __future__ import annotations

import os
import pickle
import zipfile
from pathlib import Path
from typing import Any

import torch

__all__ = ["load_checkpoint", "save_atomic"]


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


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Load a checkpoint with ``weights_only=True``; an unreadable file is a ValueError naming it.

    Example::

        >>> from snntorch_ext.engine import load_checkpoint
        >>> ckpt = load_checkpoint("runs/stbp-mnist-quick/last.pt")  # doctest: +SKIP
    """
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile) as err:
        raise ValueError(f"checkpoint {path} is unreadable ({type(err).__name__}: {err})") from None
    if not isinstance(ckpt, dict) or "model" not in ckpt or "recipe" not in ckpt:
        raise ValueError(f"checkpoint {path} is not a snntorch-ext checkpoint")
    return ckpt
