"""Collection for ``python -m pytest`` (tests and the package's docstring examples)."""

import importlib.util

# The Triton kernels import Triton at the top; without it (e.g. CPU-only PyTorch wheels on
# macOS) their docstring examples are not collected. Their tests skip on their own.
collect_ignore_glob = ([] if importlib.util.find_spec("triton")
                       else ["snntorch_ext/kernels/triton/*"])
