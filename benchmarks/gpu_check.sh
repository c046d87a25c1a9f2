#!/usr/bin/env bash
# The GPU check: on a machine with CUDA and no network, in under 8 minutes on one modern GPU,
#   1. installs the wheels of WHEEL_DIR (snntorch, mlxtend, tonic, ...: what the machine lacks;
#      benchmarks/fetch_gpu_wheels.sh downloads them) into a temporary folder, no network, no deps;
#   2. runs the tests marked gpu, then the whole suite with CUDA visible (under a time cap);
#   3. trains one quick recipe per paper with --device cuda, and one with --precision bf16 --compile;
#   4. runs a 2-GPU torchrun smoke test when there are 2 or more GPUs;
#   5. runs `snntorch-ext bench --device cuda` on the T = 32 layer and the network cases.
# Every step has its own time limit; a failing step is reported and the next one runs.
#
# Usage (from anywhere; the package is imported from this repository, not installed):
#   bash benchmarks/gpu_check.sh WHEEL_DIR        # WHEEL_DIR may be empty or "-": no wheels
# Writes $OUT_DIR/gpu_check.log, $OUT_DIR/gpu_check.json and $OUT_DIR/bench/ (the bench tables);
# OUT_DIR defaults to $OUT if set, else ./gpu_check_out. PYTHON (default python3) runs it all.
# Without CUDA the CUDA steps are skipped (a dry run of the script's control flow); DEVICE=cpu
# rehearses them on the CPU instead (with small LIMIT_* values, to check the script itself).
set -uo pipefail

WHEEL_DIR="${1:-}"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT_DIR="${OUT_DIR:-${OUT:-$PWD/gpu_check_out}}"
PYTHON="${PYTHON:-python3}"
# Step limits in seconds (tests <= 105 s, recipes <= 225 s, bench <= 100 s: under 8 minutes).
LIMIT_INSTALL="${LIMIT_INSTALL:-60}"
LIMIT_GPU_TESTS="${LIMIT_GPU_TESTS:-45}"
LIMIT_ALL_TESTS="${LIMIT_ALL_TESTS:-60}"
LIMIT_RECIPE="${LIMIT_RECIPE:-35}"
LIMIT_COMPILED="${LIMIT_COMPILED:-50}"
LIMIT_TORCHRUN="${LIMIT_TORCHRUN:-45}"
LIMIT_BENCH="${LIMIT_BENCH:-100}"
RECIPE_EPOCHS="${RECIPE_EPOCHS:-1}"
BENCH_CASES="${BENCH_CASES:-layer/*/T=32 network/*}"
DEVICE="${DEVICE:-cuda}"
# One quick recipe per paper, all on image data (no tonic needed): STBP, BPSA+BPTA, MSG + TWO,
# ASF, spike-sequence labels (its N-MNIST quick recipes read events through tonic; the CIFAR10
# one runs on the offline digits).
RECIPES="${RECIPES-stbp-mnist bpsta-mnist msg-cifar10 asf-mnist-if ssl-cifar10-vanrossum}"

mkdir -p "$OUT_DIR" || { echo "gpu_check: cannot create $OUT_DIR" >&2; exit 2; }
OUT_DIR="$(cd "$OUT_DIR" && pwd)"
LOG="$OUT_DIR/gpu_check.log"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/gpu_check.XXXXXX")"
STEPS="$WORK/steps.jsonl"
: >"$LOG"
: >"$STEPS"
exec > >(tee -a "$LOG") 2>&1
START=$SECONDS

export SNNTORCH_EXT_DATA="$WORK/data"  # offline data, generated; nothing downloads
export MPLBACKEND=Agg PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
export PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}"

log() { echo "== [gpu_check $(date -u +%H:%M:%S), $((SECONDS - START)) s] $*"; }

# record NAME KIND RC SECONDS OUTPUT_FILE COMMAND...: one JSON line per step, numbers parsed
# from the step's output by KIND (pytest, recipe, bench, plain).
record() {
  "$PYTHON" - "$STEPS" "$@" <<'PY'
import json, os, re, sys
steps, name, kind, rc, seconds, output, *command = sys.argv[1:]
rc = int(rc)
text = open(output, errors="replace").read() if os.path.isfile(output) else ""
status = ("skipped" if rc == -1 else "passed" if rc == 0
          else "timed out" if rc in (124, 137) else "failed")
numbers = {}
if kind == "pytest":
    for count, word in re.findall(r"(\d+) (passed|failed|skipped|errors?|deselected|xfailed)",
                                  text.splitlines()[-1] if text.strip() else ""):
        numbers[word.rstrip("s") if word.startswith("error") else word] = int(count)
    if rc == 5:
        status = "no tests collected"
elif kind == "recipe":
    found = re.search(r"test accuracy ([\d.]+) \(best ([\d.]+)\) after (\d+) epochs, (\d+) s", text)
    if found:
        numbers = {"test_acc": float(found[1]), "best_test_acc": float(found[2]),
                   "epochs": int(found[3]), "train_seconds": int(found[4])}
elif kind == "bench":
    try:
        bench = json.loads(text)
    except ValueError:
        bench = {"results": []}
    ok = [r for r in bench["results"] if r["status"] == "ok"]
    key = {(r["group"], r["name"], r["path"], r["T"]): r["median_ms"] for r in ok}
    numbers = {"cases": len(bench["results"]), "ok": len(ok),
               "complete": bench.get("complete", False),
               "median_ms": {f"{g}/{n}/{p}/T={t}": round(v, 3) for (g, n, p, t), v in key.items()}}
    ratios = {}
    for (group, case, path, t), value in key.items():
        loop = key.get(("layer", "snn.Leaky", "snntorch-loop", t))
        per_step = key.get((group, case, "per-step", t))
        if group == "layer" and loop:
            ratios[f"{case}/{path}/T={t} speed-up over snnTorch loop"] = round(loop / value, 3)
        if path in ("fused", "triton") and per_step:
            ratios[f"{group}/{case}/{path}/T={t} speed-up over per-step"] = round(per_step / value, 3)
    numbers["ratios"] = ratios
with open(steps, "a") as f:
    f.write(json.dumps({"step": name, "command": " ".join(command), "exit_code": rc,
                        "status": status, "seconds": round(float(seconds), 1),
                        "numbers": numbers}) + "\n")
PY
}

# run NAME KIND LIMIT COMMAND...: run with a time limit (SIGINT first, so pytest prints its
# summary), log the output, record the result.
run() {
  local name="$1" kind="$2" limit="$3"
  shift 3
  local output="$WORK/$name.out" begin=$SECONDS rc
  log "step $name (limit ${limit} s): $*"
  timeout -s INT -k 15 "$limit" "$@" 2>&1 | tee "$output"
  rc=${PIPESTATUS[0]}
  log "step $name: exit code $rc after $((SECONDS - begin)) s"
  if [ "$kind" = bench ]; then output="$OUT_DIR/bench/results/bench.json"; fi
  record "$name" "$kind" "$rc" "$((SECONDS - begin))" "$output" "$@"
}

skip() {  # skip NAME REASON
  log "step $1: skipped ($2)"
  echo "$2" >"$WORK/$1.out"
  record "$1" plain -1 0 "$WORK/$1.out" "(skipped: $2)"
}

log "repository $REPO, output $OUT_DIR, work folder $WORK"

# 1. wheels into a temporary site folder: no network, no dependencies
if [ -n "$WHEEL_DIR" ] && [ "$WHEEL_DIR" != "-" ]; then
  shopt -s nullglob
  wheels=("$WHEEL_DIR"/*.whl)
  shopt -u nullglob
  if [ "${#wheels[@]}" -eq 0 ]; then
    skip install "no .whl files in $WHEEL_DIR"
  else
    run install plain "$LIMIT_INSTALL" "$PYTHON" -m pip install --quiet --no-index --no-deps \
      --no-compile --no-cache-dir --target "$WORK/site" "${wheels[@]}"
    export PYTHONPATH="$REPO:$WORK/site"
  fi
else
  skip install "no wheel folder given"
fi

run environment plain 60 "$PYTHON" -c '
import platform, torch
print("python", platform.python_version(), "torch", torch.__version__,
      "cuda", torch.cuda.is_available(), "gpus", torch.cuda.device_count())
for i in range(torch.cuda.device_count()):
    print("gpu", i, torch.cuda.get_device_name(i))
for name in ("triton", "snntorch", "snntorch_ext", "tonic", "spikingjelly"):
    try:
        module = __import__(name)
        print(name, getattr(module, "__version__", "?"), module.__file__)
    except Exception as err:
        print(name, "NOT importable:", type(err).__name__, err)
'
GPUS="$("$PYTHON" -c 'import torch; print(torch.cuda.device_count() if torch.cuda.is_available() else 0)' 2>/dev/null || echo 0)"
log "CUDA devices: $GPUS; device of the recipe and bench steps: $DEVICE"
on_device() { [ "$DEVICE" = cpu ] || [ "$GPUS" -ge 1 ]; }

# 2. tests
if [ "$GPUS" -ge 1 ]; then
  run tests-gpu pytest "$LIMIT_GPU_TESTS" "$PYTHON" -m pytest -m gpu -q -p no:cacheprovider \
    "$REPO/tests"
else
  skip tests-gpu "no CUDA device"
fi
run tests-all pytest "$LIMIT_ALL_TESTS" "$PYTHON" -m pytest -q -p no:cacheprovider "$REPO/tests"

# 3. one quick recipe per paper on the GPU, and one with bf16 autocast and torch.compile
for recipe in $RECIPES; do
  if on_device; then
    run "recipe-$recipe" recipe "$LIMIT_RECIPE" "$PYTHON" -m snntorch_ext train "$recipe" \
      --quick --epochs "$RECIPE_EPOCHS" --device "$DEVICE" --no-progress --out "$WORK/runs/$recipe"
  else
    skip "recipe-$recipe" "no CUDA device"
  fi
done
if on_device; then
  run recipe-stbp-mnist-bf16-compile recipe "$LIMIT_COMPILED" "$PYTHON" -m snntorch_ext train \
    stbp-mnist --quick --epochs 1 --device "$DEVICE" --precision bf16 --compile --no-progress \
    --out "$WORK/runs/stbp-mnist-bf16-compile"
else
  skip recipe-stbp-mnist-bf16-compile "no CUDA device"
fi

# 4. two processes, one GPU each, through torchrun
if [ "$GPUS" -ge 2 ]; then
  run torchrun-2gpu recipe "$LIMIT_TORCHRUN" "$PYTHON" -m torch.distributed.run --standalone \
    --nproc_per_node 2 -m snntorch_ext train stbp-mnist --quick --epochs 1 --device cuda \
    --no-progress --out "$WORK/runs/stbp-mnist-torchrun"
else
  skip torchrun-2gpu "fewer than 2 GPUs ($GPUS)"
fi

# 5. the benchmark suite on the GPU: the T = 32 layer cases and the network steps
if on_device; then
  set -f  # BENCH_CASES is a list of globs for the bench, not for the shell
  # shellcheck disable=SC2086
  run bench bench "$LIMIT_BENCH" "$PYTHON" -m snntorch_ext bench --device "$DEVICE" \
    --timeout 60 --out "$OUT_DIR/bench" --cases $BENCH_CASES
  set +f
else
  skip bench "no CUDA device"
fi

log "finished in $((SECONDS - START)) s"
"$PYTHON" - "$STEPS" "$OUT_DIR/gpu_check.json" "$((SECONDS - START))" "$GPUS" <<'PY'
import json, sys
steps_file, out, seconds, gpus = sys.argv[1:]
steps = [json.loads(line) for line in open(steps_file) if line.strip()]
summary = {"seconds": int(seconds), "gpus": int(gpus),
           "passed": sum(s["status"] == "passed" for s in steps),
           "not_passed": [s["step"] for s in steps if s["status"] not in ("passed", "skipped")],
           "steps": steps}
with open(out, "w") as f:
    json.dump(summary, f, indent=1)
for s in steps:
    print(f"{s['step']:36s} {s['status']:18s} {s['seconds']:7.1f} s  {json.dumps(s['numbers'])[:150]}")
print(f"gpu_check: {summary['passed']} steps passed; not passed: {summary['not_passed'] or 'none'}")
PY
rm -rf "$WORK"
