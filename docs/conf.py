"""Sphinx configuration of snntorch-ext (built nitpicky, with warnings as errors).

The pages load nothing from another host: MathJax ships with the ``sphinx-mathjax-offline``
extension (copied into ``_static/mathjax``), and sphinx-gallery's computation-times page, which
pulls jQuery and DataTables from CDNs, is not written.
"""

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("MPLBACKEND", "Agg")

import snntorch_ext  # noqa: E402
from snntorch_ext._citations import write_reference_list  # noqa: E402

project = "snntorch-ext"
author = "snntorch-ext developers"
copyright = "2026, snntorch-ext developers"
release = version = snntorch_ext.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",
    "sphinx.ext.viewcode",
    "sphinx_gallery.gen_gallery",
]
mathjax_path = "mathjax/tex-chtml.js"  # a local copy, also for file:// and offline hosting

autodoc_member_order = "bysource"
autodoc_inherit_docstrings = False
autodoc_typehints = "signature"
napoleon_google_docstring = True
napoleon_numpy_docstring = False

# Unresolved references fail the build. Types of other packages cannot be linked offline (no
# intersphinx inventories), so only those are exempt.
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(torch|snntorch|numpy|np|nn|matplotlib|tonic|torchvision)(\..*)?"),
    (r"py:.*", r"(Tensor|Module|Dataset|Generator|Path|Callable|Sequence|Mapping|Iterable)"),
    (r"py:.*", r"(collections|typing|pathlib|os|argparse|types)\..*"),
    # Sphinx splits the dataclass signature's "dict[str, ~typing.Any]" at the comma
    ("py:class", r"dict\[str"),
]

sphinx_gallery_conf = {
    "examples_dirs": "../tutorials",
    "gallery_dirs": "tutorials",
    "filename_pattern": r"/\d\d_",
    "download_all_examples": True,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "abort_on_example_error": True,
    "write_computation_times": False,  # its page loads jQuery/DataTables from CDNs
}

write_reference_list(HERE / "_generated" / "references.rst")

html_theme = "furo"
html_title = f"snntorch-ext {release}"
html_static_path = ["_static"]
exclude_patterns = ["_build", "_generated"]
