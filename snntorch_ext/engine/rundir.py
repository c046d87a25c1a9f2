"""The output folder of a run: one run at a time, checked before use, replaced only safely."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from .checkpoint import LAST_KEYS, load_checkpoint
from .errors import RunError, os_error_message

__all__ = ["RUN_FILES", "RunFolder"]

RUN_FILES = ("run.json", "last.pt", "best.pt", "metrics.jsonl", "metrics.csv", "summary.json",
             "curves.png")
LOCK_NAME = ".snntorch-ext.lock"
ASIDE_PREFIX = ".replaced-"


def _is_temporary(path: Path) -> bool:
    return path.name.startswith(".") and ".tmp-" in path.name


def note(message: str) -> None:
    """Tell the user something that is not an error (on standard error).

    Example::

        >>> from snntorch_ext.engine.rundir import note
        >>> note("starting a new run")  # prints to stderr: snntorch-ext: note: starting ...
    """
    print(f"snntorch-ext: note: {message}", file=sys.stderr)


# A recipe's description (its table row, notes, block and the paper's figures) does not change
# what a run computes: a corrected paper figure must not refuse to resume a run.
_DESCRIPTIVE = ("table", "notes", "group", "paper_")


def differences(old: Any, new: Any, prefix: str = "") -> list[str]:
    """The dotted keys whose values differ between two nested dictionaries.

    Descriptive recipe fields (``table``, ``notes``, ``group``, ``paper_*``) are not compared.

    Example::

        >>> from snntorch_ext.engine.rundir import differences
        >>> differences({"recipe": {"epochs": 1, "T": 4}}, {"recipe": {"epochs": 3, "T": 4}})
        ['recipe.epochs']
        >>> differences({"recipe": {"paper_value": 99.1}}, {"recipe": {"paper_value": 99.2}})
        []
    """
    if not (isinstance(old, dict) and isinstance(new, dict)):
        return [prefix.rstrip(".") or "(all)"] if old != new else []
    diffs = []
    for key in sorted(set(old) | set(new)):
        if prefix == "recipe." and str(key).startswith(_DESCRIPTIVE):
            continue
        diffs += differences(old.get(key), new.get(key), f"{prefix}{key}.")
    return diffs


def _short(old: dict, new: dict) -> str:
    """The differing keys, with both values where they are short."""
    parts = []
    for key in differences(old, new):
        a, b = _lookup(old, key), _lookup(new, key)
        pair = f"{a!r} -> {b!r}"
        parts.append(f"{key}: {pair}" if len(pair) <= 40 else key)
    return "; ".join(parts)


def _lookup(tree: Any, dotted: str) -> Any:
    for key in dotted.split("."):
        tree = tree.get(key) if isinstance(tree, dict) else None
    return tree


class RunFolder:
    """The folder ``out`` of one run, held with an exclusive ``fcntl`` lock while the run lasts.

    Entering creates the folder if needed and locks it; a second run into the same folder is
    refused with the process id of the first. Temporary files of a killed run are removed, and
    a run left half-replaced by ``overwrite`` is put back. Leaving unlocks, and removes the
    folder again if this run created it and wrote nothing into it.

    Example::

        >>> import tempfile, pathlib
        >>> from snntorch_ext.engine.rundir import RunFolder
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "run"
        >>> with RunFolder(out) as folder:
        ...     folder.check("stbp-mnist", {}, resume=False, overwrite=False) is None
        True
        >>> out.exists()  # created, nothing written: removed again
        False
    """

    def __init__(self, out: Path) -> None:
        self.out = out
        self._fd: int | None = None
        self._created = False
        self._aside: Path | None = None

    # -- locking -------------------------------------------------------------------------------
    def __enter__(self) -> RunFolder:
        if self.out.exists() and not self.out.is_dir():
            raise RunError(f"--out {self.out} exists and is not a folder; choose another --out")
        try:
            self._created = not self.out.exists()
            self.out.mkdir(parents=True, exist_ok=True)
            self._lock()
        except OSError as err:
            self._remove_if_unused()
            raise RunError(os_error_message(err, f"creating the run folder {self.out}")) from None
        self._recover()
        return self

    def _lock(self) -> None:
        path = self.out / LOCK_NAME
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
                os.close(fd)
                raise RunError(f"--out {self.out} is in use by another run (process {holder}); "
                               f"wait for it to end or choose another --out") from None
            try:
                same = os.fstat(fd).st_ino == os.stat(path).st_ino
            except FileNotFoundError:
                same = False
            if same:  # else the holder removed the file as we opened it: lock the new one
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if self._aside is not None and exc_type is not None:
            self._restore_aside()
        if self._fd is not None:
            (self.out / LOCK_NAME).unlink(missing_ok=True)
            os.close(self._fd)
            self._fd = None
        self._remove_if_unused()

    def _remove_if_unused(self) -> None:
        if self._created and self.out.is_dir() and not any(self.out.iterdir()):
            self.out.rmdir()

    def _recover(self) -> None:
        """Remove temporary files of killed runs; put back a run that a killed one replaced."""
        for path in self.out.iterdir():
            if _is_temporary(path) and path.is_file():
                path.unlink(missing_ok=True)
        for aside in sorted(self.out.glob(f"{ASIDE_PREFIX}*")):
            if (self.out / "last.pt").exists():
                shutil.rmtree(aside, ignore_errors=True)
            else:
                self._aside = aside
                self._restore_aside()

    # -- checks --------------------------------------------------------------------------------
    def run_files(self) -> list[Path]:
        return [self.out / name for name in RUN_FILES if (self.out / name).exists()]

    def check(self, name: str, config: dict, resume: bool, overwrite: bool
              ) -> dict[str, Any] | None:
        """Check that this run may use the folder; return the checkpoint to resume, if any.

        Writes nothing: with ``overwrite`` the old run is only set aside by :meth:`replace`.
        """
        others = [p for p in self.out.iterdir() if p.name != LOCK_NAME]
        if not others:
            if resume:
                note(f"--resume: {self.out} holds no run yet; starting a new one")
            return None
        previous = self._previous_config(name, resume, overwrite)
        if previous is None:
            raise RunError(f"--out {self.out} is not empty and holds no snntorch-ext run; "
                           f"choose a new or empty folder")
        previous_name = previous.get("recipe", {}).get("name")
        if previous_name != name:
            raise RunError(f"--out {self.out} holds a run of recipe {previous_name!r}, not "
                           f"{name!r}; choose another --out")
        if overwrite:
            return None
        if differences(previous, config):
            raise RunError(f"--out {self.out} holds a run of {name} with other settings "
                           f"({_short(previous, config)}); choose another --out or pass "
                           f"--overwrite")
        last = self.out / "last.pt"
        if not resume:
            if last.exists():
                raise RunError(f"--out {self.out} already holds a run of {name}; pass --resume "
                               f"to continue it or --overwrite to start again")
            return None
        if not last.exists():
            note(f"--resume: {self.out} holds no finished epoch yet; starting the run again")
            return None
        ckpt = self._load_last()
        if ckpt["recipe"] != name or differences(ckpt["config"], config):
            raise RunError(f"{last} was written by another recipe or other settings "
                           f"({_short(ckpt['config'], config)}); choose another --out or pass "
                           f"--overwrite")
        return ckpt

    def _load_last(self) -> dict[str, Any]:
        try:
            return load_checkpoint(self.out / "last.pt", LAST_KEYS)
        except ValueError as err:
            raise RunError(f"{err}; start again with --overwrite or choose another --out"
                           ) from None

    def _previous_config(self, name: str, resume: bool, overwrite: bool) -> dict | None:
        """The settings of the run in the folder, from ``run.json`` or else from ``last.pt``."""
        run_file = self.out / "run.json"
        if run_file.exists():
            try:
                config = json.loads(run_file.read_text())["config"]
                if isinstance(config, dict) and isinstance(config.get("recipe"), dict):
                    return config
            except (ValueError, KeyError, TypeError, OSError):
                pass
        if not (self.out / "last.pt").exists():
            if run_file.exists():
                raise RunError(f"{run_file} is unreadable and there is no last.pt; delete the "
                               f"folder or choose another --out")
            return None
        ckpt = self._load_last()
        if run_file.exists() and not (resume or overwrite):
            raise RunError(f"{run_file} is unreadable, but last.pt of {ckpt['recipe']} is "
                           f"intact: pass --resume to rebuild run.json and continue")
        return ckpt["config"]

    # -- replacing -----------------------------------------------------------------------------
    def replace(self) -> None:
        """Move the previous run aside; :meth:`commit` deletes it, a failure puts it back."""
        files = self.run_files()
        if not files:
            return
        self._aside = self.out / f"{ASIDE_PREFIX}{os.getpid()}"
        self._aside.mkdir(exist_ok=True)
        for path in files:
            os.replace(path, self._aside / path.name)

    def commit(self) -> None:
        """The new run has its first checkpoint: delete the run it replaced."""
        if self._aside is not None:
            shutil.rmtree(self._aside, ignore_errors=True)
            self._aside = None

    def _restore_aside(self) -> None:
        assert self._aside is not None
        for name in RUN_FILES:
            (self.out / name).unlink(missing_ok=True)
        for path in self._aside.iterdir():
            os.replace(path, self.out / path.name)
        self._aside.rmdir()
        self._aside = None
