"""The README's test command, ``python -m pytest``, runs every docstring example too."""

import doctest
import importlib
import pkgutil
import re
from pathlib import Path

import snntorch_ext

ROOT = Path(__file__).resolve().parents[1]


def test_pytest_collects_the_package_docstrings():
    text = (ROOT / "pyproject.toml").read_text()
    options = text[text.index("[tool.pytest.ini_options]"):]
    assert re.search(r'^testpaths = \[.*"snntorch_ext".*\]', options, re.M)
    assert re.search(r'^addopts = ".*--doctest-modules.*"', options, re.M)


def test_every_module_imports_without_side_effects_and_has_examples():
    finder, examples = doctest.DocTestFinder(), 0
    for info in pkgutil.walk_packages(snntorch_ext.__path__, "snntorch_ext."):
        module = importlib.import_module(info.name)       # __main__ must not run the CLI
        examples += sum(len(test.examples) for test in finder.find(module))
    assert examples > 100
