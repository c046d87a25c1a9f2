"""The error every refused or failed run raises, and how operating-system errors read."""

from __future__ import annotations

import errno

__all__ = ["RunError", "os_error_message"]


class RunError(ValueError):
    """A run cannot start or continue: bad recipe, device, data, output folder or checkpoint.

    A ``ValueError``; the command line prints it and exits with code 2.

    Example::

        >>> import snntorch_ext as snx
        >>> try:
        ...     snx.engine.train("no-such-recipe")
        ... except snx.engine.RunError as err:
        ...     print(str(err)[:30])
        unknown recipe 'no-such-recipe
    """


_ADVICE = {
    errno.ENOSPC: "no space left on the device; free some space or choose another --out "
                  "(finished epochs stay in last.pt: continue with --resume)",
    errno.EDQUOT: "the disk quota is exceeded; free some space or choose another --out",
    errno.EACCES: "permission denied; choose a folder you can write to",
    errno.EPERM: "operation not permitted; choose a folder you can write to",
    errno.EROFS: "the file system is read-only; choose a folder you can write to",
}


def os_error_message(err: OSError, doing: str) -> str:
    """One line that says what failed (``doing``), on which file, and what to do about it.

    Example::

        >>> import errno
        >>> from snntorch_ext.engine.errors import os_error_message
        >>> err = OSError(errno.ENOSPC, "No space left on device", "runs/x/last.pt")
        >>> os_error_message(err, "writing")[:60]
        'writing runs/x/last.pt failed: no space left on the device; '
    """
    where = f" {err.filename}" if err.filename else ""
    advice = _ADVICE.get(err.errno or 0, err.strerror or str(err))
    return f"{doing}{where} failed: {advice}"
