"""Sphinx configuration of snntorch-ext (built with warnings as errors)."""

import os
import sys
from pathlib import Path

import snntorch_ext

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("MPLBACKEND", "Agg")

project = "snntorch-ext"
author = "snntorch-ext developers"
copyright = "2026, snntorch-ext developers"
release = version = snntorch_ext.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "sphinx_gallery.gen_gallery",
]

autodoc_member_order = "bysource"
autodoc_inherit_docstrings = False
autodoc_typehints = "signature"
napoleon_google_docstring = True
napoleon_numpy_docstring = False

sphinx_gallery_conf = {
    "examples_dirs": "../tutorials",
    "gallery_dirs": "tutorials",
    "filename_pattern": r"/\d\d_",
    "download_all_examples": True,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "abort_on_example_error": True,
}

html_theme = "furo"
html_title = f"snntorch-ext {release}"
html_static_path = ["_static"]
exclude_patterns = ["_build"]
