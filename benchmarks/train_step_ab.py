"""A/B timing of the quick recipes' training step: this checkout against another one.

Times ``forward + loss + backward + optimiser step`` of a recipe's quick network, built by the
engine (:func:`snntorch_ext.engine.build_model`) from the recipe exactly as ``snntorch-ext train
--quick`` builds it, on fixed batches of the offline digits encoded by the recipe's encoder. Each
checkout runs in its own process (one thread), and the processes alternate, so both see the
same load on a shared machine::

    git worktree add /tmp/base <commit>
    python benchmarks/train_step_ab.py --base /tmp/base --recipes stbp-mnist bpsta-mnist

It writes ``benchmarks/results/train_step_ab.{json,md,rst}``: per recipe and checkout, the median
and minimum of the seconds per training step over the rounds, and the ratio of the medians.
``--worker`` is the child process: it prints one JSON line of step times.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def worker(recipe_name: str, steps: int, warmup: int, data: str) -> None:
    """Time ``steps`` training steps of the quick recipe in this checkout; print JSON.

    The process starts as that checkout's ``snntorch-ext`` program starts (``huge_pages``,
    where the checkout's program has it) before the first tensor exists."""
    from snntorch_ext import cli

    if hasattr(cli, "huge_pages"):
        cli.huge_pages()
    import torch

    from snntorch_ext.engine import build_model
    from snntorch_ext.recipes import get, resolve

    torch.set_num_threads(1)
    torch.manual_seed(0)
    recipe = get(recipe_name).quick_variant()
    images = resolve(recipe.dataset)(data, train=True, **recipe.dataset_kwargs)
    batch = recipe.batch_size
    x = torch.stack([images[i][0] for i in range(batch)])
    labels = torch.tensor([int(images[i][1]) for i in range(batch)])
    encode = resolve(recipe.encoder)
    model = build_model(recipe, x.shape[1]).train()
    optimizer = resolve(recipe.optimizer)(model.parameters(), **recipe.optimizer_kwargs)
    loss_fn = resolve(recipe.loss)(**recipe.loss_kwargs)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        loss_fn(model(encode(x, recipe.num_steps, **recipe.encoder_kwargs)), labels).backward()
        optimizer.step()

    for _ in range(warmup):
        step()
    times, cpu = [], []
    for _ in range(steps):
        start, start_cpu = time.perf_counter(), time.process_time()
        step()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    print(json.dumps({"recipe": recipe_name, "batch": batch, "T": recipe.num_steps,
                      "wall": times, "cpu": cpu}))


def _run(checkout: Path, recipe: str, steps: int, warmup: int, data: str, huge_pages: bool
         ) -> dict[str, list[float]]:
    env = {**os.environ, "PYTHONPATH": str(checkout), "OMP_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1"}
    if huge_pages:
        env["THP_MEM_ALLOC_ENABLE"] = "1"
    out = subprocess.run(
        [sys.executable, str(HERE / "train_step_ab.py"), "--worker", recipe,
         "--steps", str(steps), "--warmup", str(warmup), "--data", data],
        env=env, cwd=checkout, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _commit(checkout: Path) -> str:
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=checkout,
                          capture_output=True, text=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", metavar="RECIPE")
    parser.add_argument("--base", type=Path, help="the other checkout (A)")
    parser.add_argument("--recipes", nargs="+", default=["stbp-mnist", "bpsta-mnist"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--data", default=os.environ.get("SNNTORCH_EXT_DATA", "/tmp/snx-data"))
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--huge-pages", action="store_true",
                        help="give both sides transparent huge pages (THP_MEM_ALLOC_ENABLE=1), "
                             "to separate the code's speed-up from the program's memory setting")
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.steps, args.warmup, args.data)
        return
    if args.base is None:
        parser.error("--base is required")
    checkouts = {"A": args.base.resolve(), "B": ROOT}
    results = {}
    for recipe in args.recipes:
        times = {side: {"wall": [], "cpu": []} for side in checkouts}
        for _ in range(args.rounds):
            for side, checkout in checkouts.items():
                got = _run(checkout, recipe, args.steps, args.warmup, args.data,
                           args.huge_pages)
                for clock in ("wall", "cpu"):
                    times[side][clock] += got[clock]
        row = {side: {f"{stat}_{clock}_s": fn(t[clock]) for clock in ("wall", "cpu")
                      for stat, fn in (("median", statistics.median), ("min", min))}
               | {"steps": len(t["wall"])} for side, t in times.items()}
        for clock in ("wall", "cpu"):
            row[f"ratio_{clock}"] = (row["B"][f"median_{clock}_s"]
                                     / row["A"][f"median_{clock}_s"])
        results[recipe] = row
        print(recipe, json.dumps(row), flush=True)
    report = {"A": {"path": str(checkouts["A"]), "commit": _commit(checkouts["A"])},
              "B": {"path": str(ROOT), "commit": _commit(ROOT)},
              "threads": 1, "huge_pages_both": args.huge_pages, "rounds": args.rounds,
              "steps_per_round": args.steps,
              "results": results}
    args.out.mkdir(parents=True, exist_ok=True)
    name = "train_step_ab" + ("_huge_pages" if args.huge_pages else "")
    (args.out / f"{name}.json").write_text(json.dumps(report, indent=2) + "\n")
    lines = [f"# Training step of the quick recipes: {report['A']['commit']} (A) against "
             f"{report['B']['commit']} (B)", "",
             f"One thread, {args.rounds} alternating rounds of {args.steps} steps per side "
             "(after warm-up), seconds per step (forward, loss, backward, optimiser): the "
             "process's CPU time (robust to other processes on a shared machine) and wall time, "
             "median (min)." + (" Both sides with THP_MEM_ALLOC_ENABLE=1." if args.huge_pages
                                else " Each side as its own program starts."), "",
             "| recipe | A CPU | B CPU | B / A (CPU) | A wall | B wall | B / A (wall) |",
             "|---|---|---|---|---|---|---|"]
    for recipe, row in results.items():
        cells = []
        for clock in ("cpu", "wall"):
            cells += [f"{row[side][f'median_{clock}_s']:.3f} ({row[side][f'min_{clock}_s']:.3f})"
                      for side in ("A", "B")]
            cells.append(f"{row[f'ratio_{clock}']:.2f}")
        lines.append(f"| {recipe} | " + " | ".join(cells) + " |")
    (args.out / f"{name}.md").write_text("\n".join(lines) + "\n")
    (args.out / f"{name}.rst").write_text(_rst(lines[4:]))


def _rst(rows: list[str]) -> str:
    """The Markdown table ``rows`` as an RST list-table (for ``.. include::`` in the docs)."""
    cells = [[c.strip() for c in row.strip("|").split("|")] for row in rows if "---" not in row]
    out = [".. list-table::", "   :header-rows: 1", ""]
    for row in cells:
        out += [f"   {'* -' if i == 0 else '  -'} {cell}" for i, cell in enumerate(row)]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    main()
