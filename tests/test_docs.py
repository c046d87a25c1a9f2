"""Every public name has a docstring with an example, and the API page documents every module."""

import importlib
import inspect
from pathlib import Path

import pytest

import snntorch_ext as snx

API = (Path(__file__).resolve().parent.parent / "docs" / "api.rst").read_text()
MODULES = [name for name in snx.__all__ if inspect.ismodule(getattr(snx, name))]


def _public():
    for module_name in ["snntorch_ext", *(f"snntorch_ext.{m}" for m in MODULES)]:
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if inspect.isclass(obj) or inspect.isfunction(obj):
                yield f"{module_name}.{name}", obj


@pytest.mark.parametrize("qualname, obj", list(_public()),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_public_name_has_docstring_with_example(qualname, obj):
    doc = inspect.getdoc(obj) or ""
    assert len(doc) > 40, f"{qualname} has no real docstring"
    assert "Example" in doc, f"{qualname}'s docstring has no example"


@pytest.mark.parametrize("module", MODULES)
def test_api_page_documents_module(module):
    assert f"snntorch_ext.{module}" in API, f"docs/api.rst does not document snntorch_ext.{module}"


def test_top_level_classes_are_documented():
    for name in snx.__all__:
        if inspect.isclass(getattr(snx, name)):
            assert f"snntorch_ext.{name}" in API, f"docs/api.rst does not document snx.{name}"
