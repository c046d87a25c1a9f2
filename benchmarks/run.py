"""The benchmark suite of snntorch-ext, writing into this folder: ``python benchmarks/run.py``.

The same as ``snntorch-ext bench --out benchmarks`` (see :mod:`snntorch_ext.bench`): it writes
``benchmarks/results.md`` and ``benchmarks/results/bench.{json,rst,png}``. Options::

    python benchmarks/run.py --quick                  # a smoke test, under a minute
    python benchmarks/run.py --device cuda            # the same cases on the GPU (+ Triton)
    python benchmarks/run.py --cases 'layer/*/T=32'   # a subset, by case id

The full run took 18 minutes on 2 busy CPU cores (84 cases).
"""

import sys
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from snntorch_ext.bench import main

    raise SystemExit(main(default_out=str(Path(__file__).resolve().parent)))
