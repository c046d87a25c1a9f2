"""User-facing text says which settings are ours and never points at internal documents."""

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest

import snntorch_ext as snx
from snntorch_ext.functional import asf_mse_loss
from snntorch_ext.recipes import msg as msg_recipes

ROOT = Path(__file__).resolve().parents[1]


def _docstrings():
    for info in pkgutil.walk_packages(snx.__path__, "snntorch_ext."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        yield info.name, module.__doc__ or ""
        for name, obj in vars(module).items():
            if (inspect.isclass(obj) or inspect.isfunction(obj)) and \
                    getattr(obj, "__module__", None) == info.name:
                yield f"{info.name}.{name}", obj.__doc__ or ""
                for attr, member in vars(obj).items() if inspect.isclass(obj) else ():
                    if inspect.isfunction(member):
                        yield f"{info.name}.{name}.{attr}", member.__doc__ or ""


def test_no_user_facing_text_names_the_internal_spec():
    texts = dict(_docstrings())
    for recipe in snx.recipes.all_recipes().values():
        texts[f"recipe {recipe.name}"] = f"{recipe.table} {recipe.notes}"
    for path in sorted((ROOT / "tutorials").glob("*.py")) + sorted((ROOT / "docs").glob("*.rst")):
        texts[str(path.relative_to(ROOT))] = path.read_text()
    offenders = [name for name, text in texts.items() if re.search(r"\bSPEC\b", text)]
    assert offenders == []


@pytest.mark.parametrize("text,phrase", [
    (snx.surrogate.masked.__doc__, r"shape is our choice.*congruent in shape to W"),
    (asf_mse_loss.__doc__, r"factor\s+:math:`1/B`.*is\s+our choice"),
    (msg_recipes.__doc__, r"0\.05 \\cdot B / 1024.*our choices"),
])
def test_our_settings_are_not_attributed_to_the_paper(text, phrase):
    assert re.search(phrase, text, re.S)
