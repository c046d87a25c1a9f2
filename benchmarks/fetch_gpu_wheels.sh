#!/usr/bin/env bash
# Download (with network to PyPI) the wheels that benchmarks/gpu_check.sh installs on a GPU
# machine without network: Python 3.12, manylinux x86_64. The GPU machine already has torch,
# triton, numpy, scipy, pandas, matplotlib, scikit-learn, tqdm, h5py and pytest; it lacks
#   snntorch (the neurons), mlxtend (a dependency of this package), tonic with importRosbag
#   (tonic imports it; the data modules import tonic), and, for the benchmark's reference LIF,
#   SpikingJelly 2.0 with loguru (the one dependency it imports that the machine lacks).
# Usage: bash benchmarks/fetch_gpu_wheels.sh [DEST]     (DEST defaults to .whl in the repository)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="${1:-$REPO/.whl}"
PYTHON="${PYTHON:-python3}"
# mlxtend: the version this package is developed with; the others: the releases it is tested with.
PACKAGES=(snntorch==1.0.0 mlxtend==0.25.0 tonic==1.7.0 importRosbag==1.0.4
          spikingjelly==2.0.0 loguru==0.7.3)

mkdir -p "$DEST"
"$PYTHON" -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
  --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 --platform any -d "$DEST" "${PACKAGES[@]}"
ls -l "$DEST"
