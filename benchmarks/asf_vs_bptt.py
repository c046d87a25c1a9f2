"""ASF against ordinary BPTT: seconds per training step and memory as the number of steps T grows.

The same network (``snx.models.asf_lenet``, MNIST-sized, IF neurons of snnTorch) is trained for
one step on the same signed-Poisson input, once with :class:`snntorch_ext.ASF` and once with
ordinary BPTT through the snnTorch neurons (``snx.SpikingSequential``, which already folds the
stateless layers over time, so the baseline is the fast form of BPTT; snnTorch's default
``atan`` surrogate). A step is forward, the ASF loss, backward and an Adam update.

Every (method, T) runs in a fresh worker process, so that its peak RSS is its own:

* ``seconds``: median of ``--repeats`` timed steps after one warm-up step;
* ``saved MB``: bytes that autograd saves for backward during one step, counted with
  ``torch.autograd.graph.saved_tensors_hooks`` (exact, independent of the allocator);
* ``peak RSS MB``: the process's peak resident memory during the steps (``VmHWM`` of
  ``/proc/self/status``, reset through ``/proc/self/clear_refs`` just before the first step)
  minus its resident memory at that moment (``VmRSS``): everything a step adds, the forward
  simulation, temporaries and the allocator's behaviour included; noisy to a few MB. Linux only.

Run (about 5 minutes on 2 free cores)::

    nice -n 10 python benchmarks/asf_vs_bptt.py

It writes ``benchmarks/results/asf_vs_bptt.json``, ``.md`` (the table) and ``.png`` (the plot).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

import snntorch_ext as snx

RESULTS = Path(__file__).resolve().parent / "results"
METHODS = ("asf", "bptt")


def _training_step(method: str, num_steps: int):
    torch.manual_seed(0)
    net = snx.models.asf_lenet()
    if method == "asf":
        forward = snx.ASF(net, num_steps=num_steps)
    else:
        sequence = snx.SpikingSequential(*net)

        def forward(x: torch.Tensor) -> torch.Tensor:
            return sequence(x).mean(0)  # V(T) / (T * thr_out) with thr_out = 1, as ASF returns

    optimizer = torch.optim.Adam(net.parameters(), lr=8.5e-4)
    loss_fn = snx.functional.asf_mse_loss()

    def step(x: torch.Tensor, labels: torch.Tensor) -> None:
        optimizer.zero_grad(set_to_none=True)
        loss_fn(forward(x), labels).backward()
        optimizer.step()

    return step


def _saved_bytes(step, x: torch.Tensor, labels: torch.Tensor) -> int:
    total = 0

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        nonlocal total
        total += tensor.numel() * tensor.element_size()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        step(x, labels)
    return total


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024  # kB
    raise RuntimeError(f"/proc/self/status has no {field}")


def worker(method: str, num_steps: int, batch_size: int, repeats: int) -> dict:
    """Measure one (method, T) in this process; return the numbers as a dict."""
    step = _training_step(method, num_steps)
    generator = torch.Generator().manual_seed(1)
    images = torch.rand(batch_size, 1, 28, 28, generator=generator)
    x = snx.functional.signed_poisson(images, num_steps, generator=generator)
    labels = torch.randint(0, 10, (batch_size,), generator=generator)
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak RSS (VmHWM) to VmRSS
    rss_before = _status_mb("VmRSS")
    step(x, labels)  # warm-up
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        step(x, labels)
        seconds.append(time.perf_counter() - start)
    saved = _saved_bytes(step, x, labels)
    return {"method": method, "T": num_steps, "seconds": statistics.median(seconds),
            "seconds_all": seconds, "saved_mb": saved / 2**20,
            "peak_rss_mb": _status_mb("VmHWM") - rss_before}


def _run_worker(method: str, num_steps: int, args: argparse.Namespace) -> dict:
    command = [sys.executable, __file__, "--worker", method, str(num_steps),
               "--batch-size", str(args.batch_size), "--repeats", str(args.repeats),
               "--threads", str(args.threads)]
    result = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def _table(rows: list[dict], steps: list[int]) -> str:
    by = {(r["method"], r["T"]): r for r in rows}
    lines = ["| T | ASF s/step | BPTT s/step | speed-up | ASF saved MB | BPTT saved MB "
             "| ASF peak RSS MB | BPTT peak RSS MB |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for t in steps:
        a, b = by["asf", t], by["bptt", t]
        lines.append(f"| {t} | {a['seconds']:.3f} | {b['seconds']:.3f} "
                     f"| {b['seconds'] / a['seconds']:.1f}x | {a['saved_mb']:.2f} "
                     f"| {b['saved_mb']:.1f} | {a['peak_rss_mb']:.0f} | {b['peak_rss_mb']:.0f} |")
    return "\n".join(lines)


def plot(rows: list[dict], path: Path) -> None:
    """Seconds per step and memory against T, ASF and BPTT, as a two-panel PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_time, ax_mem) = plt.subplots(1, 2, figsize=(10, 4))
    for method, colour in zip(METHODS, ("tab:blue", "tab:red"), strict=True):
        mine = sorted((r for r in rows if r["method"] == method), key=lambda r: r["T"])
        steps = [r["T"] for r in mine]
        label = method.upper()
        ax_time.plot(steps, [r["seconds"] for r in mine], "o-", color=colour, label=label)
        ax_mem.plot(steps, [r["saved_mb"] for r in mine], "o-", color=colour,
                    label=f"{label}: saved for backward")
        ax_mem.plot(steps, [max(r["peak_rss_mb"], 0.1) for r in mine], "s--", color=colour,
                    alpha=0.6, label=f"{label}: peak RSS growth")
    ax_time.set(xlabel="time steps T", ylabel="seconds per training step",
                title="Time per step")
    ax_mem.set(xlabel="time steps T", ylabel="MB", title="Memory per step", yscale="log")
    for ax in (ax_time, ax_mem):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, nargs="+", default=[8, 16, 32, 64, 100])
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--worker", nargs=2, metavar=("METHOD", "T"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.worker:
        print(json.dumps(worker(args.worker[0], int(args.worker[1]), args.batch_size,
                                args.repeats)))
        return
    rows = []
    for num_steps in args.steps:
        for method in METHODS:
            rows.append(_run_worker(method, num_steps, args))
            row = rows[-1]
            print(f"{method:4s} T={num_steps:3d}: {row['seconds']:.3f} s/step, "
                  f"saved {row['saved_mb']:.2f} MB, peak RSS +{row['peak_rss_mb']:.0f} MB",
                  flush=True)
    table = _table(rows, args.steps)
    print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    setup = {"network": "snx.models.asf_lenet (MNIST 28x28, IF)", "batch_size": args.batch_size,
             "repeats": args.repeats, "threads": torch.get_num_threads(),
             "torch": torch.__version__, "python": platform.python_version(),
             "machine": platform.machine(), "command": " ".join(sys.argv)}
    (args.out / "asf_vs_bptt.json").write_text(json.dumps({"setup": setup, "rows": rows},
                                                          indent=2))
    (args.out / "asf_vs_bptt.md").write_text(
        "# ASF vs BPTT, one training step of asf_lenet\n\n"
        f"Batch {args.batch_size}, median of {args.repeats} steps after a warm-up, "
        f"{torch.get_num_threads()} torch threads; written by `benchmarks/asf_vs_bptt.py`.\n\n"
        + table + "\n")
    plot(rows, args.out / "asf_vs_bptt.png")


if __name__ == "__main__":
    main()
