"""The training engine behind ``snntorch-ext train``: recipes in, metrics and checkpoints out.

Example::

    >>> import snntorch_ext as snx
    >>> summary = snx.engine.train("stbp-mnist", quick=True)  # doctest: +SKIP
"""

from .cache import cached_train, code_version, default_cache_root, run_key
from .checkpoint import load_checkpoint, save_atomic
from .errors import RunError
from .schedule import lr_factor
from .setup import Pipeline, build_model, default_data_root
from .trainer import train

__all__ = ["Pipeline", "RunError", "build_model", "cached_train", "code_version",
           "default_cache_root", "default_data_root", "load_checkpoint", "lr_factor", "run_key",
           "save_atomic", "train"]
