"""One reference per paper: every docstring that names a paper cites it as snntorch_ext._citations
does, and the Citing page is written from the same entries."""

import importlib
import pkgutil
import re

import pytest

import snntorch_ext
from snntorch_ext._citations import PAPERS, cite, write_reference_list

# A phrase of each title that any citation of the paper contains.
TITLE_WORDS = {
    "bpsta": "biologically plausible spatio",
    "msg": "sparse surrogate gradient",
    "asf": "with accumulated spiking flow",
    "ssl": "sequence label-based",
    "stbp": "for training high-performance",
}


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _docstrings():
    for info in pkgutil.walk_packages(snntorch_ext.__path__, "snntorch_ext."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        yield info.name, module.__doc__ or ""
        for name, obj in vars(module).items():
            if getattr(obj, "__module__", None) == info.name and getattr(obj, "__doc__", None):
                yield f"{info.name}.{name}", obj.__doc__


@pytest.mark.parametrize("key", sorted(TITLE_WORDS))
def test_docstrings_cite_the_paper_as_the_citing_page_does(key):
    short = _flat(PAPERS[key]["short"])
    citing = [(name, _flat(doc)) for name, doc in _docstrings()
              if TITLE_WORDS[key] in _flat(doc).lower() and name != "snntorch_ext._citations"]
    assert citing, f"no docstring cites the {key} paper"
    wrong = [name for name, doc in citing if short not in doc]
    assert not wrong, f"these cite the {key} paper differently from {short!r}: {wrong}"


def test_every_paper_has_one_bibtex_entry():
    keys = [re.match(r"@\w+\{([^,]+),", cite(rule)).group(1) for rule in PAPERS]
    assert len(set(keys)) == len(PAPERS)


def test_cite_rejects_an_unknown_rule():
    with pytest.raises(ValueError, match="rule must be one of"):
        cite("stdp")


def test_reference_list_holds_every_entry(tmp_path):
    write_reference_list(tmp_path / "refs.rst")
    text = (tmp_path / "refs.rst").read_text()
    for paper in PAPERS.values():
        assert paper["short"] in text
        assert paper["bibtex"].splitlines()[0] in text
