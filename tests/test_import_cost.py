"""``import snntorch_ext`` imports torch and snnTorch, and no data-set library."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_PROBE = """
import json, sys, warnings
import snntorch
before = len(warnings.filters)
def heavy():
    return [m for m in ("tonic", "scipy", "torchvision") if m in sys.modules]
import snntorch_ext as snx
snx.BPSTALeaky(); snx.PSPLeaky(); snx.surrogate.masked(); snx.recipes.get("stbp-mnist")
result = {"heavy": heavy(), "filters": len(warnings.filters) - before}
snx.data.mnist_offline
result["after_data"] = heavy()
result["listed"] = "nmnist" in dir(snx.data)
print(json.dumps(result))
"""


def test_import_pulls_in_no_data_set_library_and_no_warning_filter():
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True,
                         check=True, env={**os.environ, "PYTHONPATH": path}, cwd=ROOT)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"heavy": [], "filters": 0, "after_data": ["torchvision"], "listed": True}
