"""The wheel holds every file of the package; CI installs it and runs the command line."""

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "snntorch_ext"


def _package_files() -> set[str]:
    return {path.relative_to(ROOT).as_posix() for path in PACKAGE.rglob("*")
            if path.is_file() and "__pycache__" not in path.parts}


def test_the_wheel_holds_every_module_and_data_file(tmp_path):
    pytest.importorskip("setuptools")
    pytest.importorskip("wheel")
    source = tmp_path / "src"              # a clean copy: no stale build/ folder of the tree
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(PACKAGE, source / "snntorch_ext",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    probe = "snntorch_ext/data/wheel_probe.json"     # a data file like those a module may read
    (source / probe).write_text("{}")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "--no-index", "-q", "-w", str(tmp_path / "dist"), str(source)],
                   check=True, capture_output=True)
    (wheel,) = (tmp_path / "dist").glob("snntorch_ext-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert _package_files() <= names
    assert {"snntorch_ext/py.typed", probe} <= names
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    with zipfile.ZipFile(wheel) as archive:
        assert "snntorch-ext = snntorch_ext.cli:run" in archive.read(entry_points).decode()


def test_ci_builds_installs_and_runs_the_wheel_outside_the_tree():
    script = (ROOT / ".ci" / "run").read_text()
    assert "python -m build" in script
    assert "pip install --quiet --no-deps --no-index" in script
    assert "snntorch-ext\" list" in script
    assert re.search(r'snntorch-ext" train [\w-]+ --quick --epochs 1', script)
