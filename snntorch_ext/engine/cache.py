"""Reuse finished runs: a cache of run folders keyed by recipe, settings and code version.

The tutorials train the quick variant of several recipes; building the docs twice with the same
code should not train them twice. :func:`cached_train` trains once and copies the run folder
into a cache; a later call with the same recipe, settings, package source and library versions
copies it back instead of training.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import torch

from ..recipes import Recipe, get
from .trainer import train

__all__ = ["cached_train", "code_version", "default_cache_root", "run_key"]

_LIBRARIES = ("torch", "snntorch", "numpy", "tonic", "torchvision", "mlxtend")
_KEYED = ("epochs", "batch_size", "device", "seed")


def default_cache_root() -> Path:
    """The run cache: ``$SNNTORCH_EXT_RUN_CACHE`` if set, else ``~/.cache/snntorch_ext/runs``.

    Example::

        >>> import snntorch_ext as snx
        >>> snx.engine.default_cache_root().name  # doctest: +SKIP
        'runs'
    """
    default = Path("~/.cache/snntorch_ext/runs")
    return Path(os.environ.get("SNNTORCH_EXT_RUN_CACHE", default)).expanduser()


def code_version() -> str:
    """A hash of every source file of the installed ``snntorch_ext`` and the library versions.

    Any edit of the package, or another release of torch, snnTorch, NumPy, tonic, torchvision
    or mlxtend, gives another value, so a cached run is reused only by the code that made it.

    Example::

        >>> import snntorch_ext as snx
        >>> len(snx.engine.code_version())
        64
    """
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent.parent
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    for name in _LIBRARIES:
        try:
            digest.update(f"{name}=={metadata.version(name)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{name} missing".encode())
    return digest.hexdigest()


def run_key(recipe: str | Recipe, *, quick: bool = False, **settings: Any) -> str:
    """The cache key of a run: recipe (its quick variant with ``quick``), settings, code version.

    ``settings`` are the arguments of :func:`snntorch_ext.engine.train` that change the result
    (``epochs``, ``batch_size``, ``device``, ``seed``); ``None`` means the recipe's own value.

    Example::

        >>> import snntorch_ext as snx
        >>> a = snx.engine.run_key("stbp-mnist", quick=True)
        >>> a == snx.engine.run_key("stbp-mnist", quick=True, seed=0)
        True
        >>> a == snx.engine.run_key("stbp-mnist", quick=True, seed=1)
        False
    """
    resolved = get(recipe) if isinstance(recipe, str) else recipe
    if quick:
        resolved = resolved.quick_variant()
    unknown = sorted(set(settings) - set(_KEYED))
    if unknown:
        raise ValueError(f"settings must be among {list(_KEYED)}, got {unknown}")
    keyed = {"seed": 0, **{k: v for k, v in settings.items() if v is not None}}
    if keyed.get("device", "auto") == "auto":
        keyed["device"] = "cuda" if torch.cuda.is_available() else "cpu"
    text = json.dumps({"recipe": dataclasses.asdict(resolved), "quick": quick,
                       "settings": keyed, "code": code_version()},
                      sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def cached_train(recipe: str | Recipe, *, out: str | os.PathLike, quick: bool = False,
                 cache: str | os.PathLike | None = None, **kwargs: Any) -> dict[str, Any]:
    """:func:`~snntorch_ext.engine.train` into ``out``, or copy a cached identical run there.

    A run is identical when :func:`run_key` agrees: same recipe (after ``quick``), same
    ``epochs``, ``batch_size``, ``device`` and ``seed``, same package source and libraries.
    On a hit nothing is trained and ``callbacks`` are not called; files that callbacks wrote
    into ``out`` during the original run are part of the cached folder and come back with it.
    After a miss the finished run folder is copied into the cache (written to a temporary
    folder and renamed, so an interrupted copy is never found). Reusing runs is our choice, to
    keep the docs build short (see :ref:`design-engine`).

    Args:
        recipe: a recipe name or a :class:`~snntorch_ext.recipes.Recipe`.
        out: the run folder to fill (it must not hold another run).
        quick: use the recipe's quick variant.
        cache: the cache folder; default :func:`default_cache_root`.
        **kwargs: any other argument of :func:`~snntorch_ext.engine.train`.

    Returns:
        The run's summary (``summary.json``).

    Example::

        >>> import snntorch_ext as snx
        >>> summary = snx.engine.cached_train("stbp-mnist", quick=True,
        ...                                   out="runs/stbp-mnist-quick")  # doctest: +SKIP
    """
    settings = {k: kwargs.get(k) for k in _KEYED if k in kwargs}
    key = run_key(recipe, quick=quick, **settings)
    root = Path(cache).expanduser() if cache is not None else default_cache_root()
    cached, out = root / key, Path(out)
    if (cached / "summary.json").is_file():
        shutil.copytree(cached, out, dirs_exist_ok=True)
        return json.loads((out / "summary.json").read_text())
    summary = train(recipe, quick=quick, out=out, **kwargs)
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=root))
    shutil.copytree(out, staging, dirs_exist_ok=True)
    try:
        staging.rename(cached)
    except OSError:  # another build cached the same run meanwhile
        shutil.rmtree(staging, ignore_errors=True)
    return summary
