"""``python tests/cli_tiny.py ARGS``: the command line, with the test recipes of tiny.py known.

``$SNX_TEST_STOP_AFTER=K`` interrupts the run (as Ctrl-C does) once K epochs are saved.
``$SNX_TEST_FAULT`` makes writes fail as on a full disk (``enospc``) or a read-only folder
(``eacces``), for the tests of the command line's messages.
"""

import errno
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import torch  # noqa: E402
from tiny import RECIPES  # noqa: E402

import snntorch_ext.engine.checkpoint as checkpoint  # noqa: E402
import snntorch_ext.engine.setup as setup  # noqa: E402
import snntorch_ext.engine.trainer as trainer  # noqa: E402
from snntorch_ext.cli import main  # noqa: E402

_get = setup.get
setup.get = lambda name: RECIPES[name] if name in RECIPES else _get(name)

stop_after = os.environ.get("SNX_TEST_STOP_AFTER")
if stop_after:
    _run_epoch = trainer._run_epoch

    def stopping_run_epoch(parts, epoch, seed):
        if epoch == int(stop_after):
            raise KeyboardInterrupt
        return _run_epoch(parts, epoch, seed)

    trainer._run_epoch = stopping_run_epoch

fault = os.environ.get("SNX_TEST_FAULT")
if fault:
    code = {"enospc": errno.ENOSPC, "eacces": errno.EACCES}[fault]
    _save, _open = torch.save, os.open

    def failing_save(obj, path, *args, **kwargs):
        raise OSError(code, os.strerror(code), str(path))

    def failing_open(path, flags, *args, **kwargs):
        if flags & os.O_CREAT:
            raise OSError(code, os.strerror(code), str(path))
        return _open(path, flags, *args, **kwargs)

    checkpoint.torch.save = failing_save if fault == "enospc" else _save
    if fault == "eacces":
        os.open = failing_open

if __name__ == "__main__":  # a script; doctest collection imports it and runs nothing
    raise SystemExit(main())
