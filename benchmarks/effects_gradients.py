"""Why an arm of an effect protocol learns slower: its gradient at initialisation, per layer.

For every arm of a protocol (``snntorch-ext effects``), the same initial weights (seed 1) and
the same batch of training samples (the first ``--batch``) give one gradient of the loss; the
script prints and records, per weight layer, the gradient's norm for each arm and the cosine
between two arms' gradients. Results go to ``benchmarks/results/effects_gradients.{json,md}``.

Run, e.g.::

    PYTHONPATH=. python benchmarks/effects_gradients.py bpsta-events bpsa "bpsa+bpta"
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from snntorch_ext.engine.setup import build_model, default_data_root, open_data
from snntorch_ext.recipes import resolve
from snntorch_ext.reproduce import PROTOCOLS
from snntorch_ext.reproduce.effects import arm_recipe

RESULTS = Path(__file__).resolve().parent / "results" / "effects_gradients.json"


def gradients(key: str, arm_name: str, batch: int) -> dict[str, torch.Tensor]:
    """The gradient of every weight layer (dim > 1) of ``arm_name`` on the first ``batch``
    training samples, from the initial weights of seed 1."""
    protocol = PROTOCOLS[key]
    recipe = arm_recipe(protocol, protocol.arm(arm_name), protocol.lrs[-1], "test")
    train_set, _ = open_data(recipe, default_data_root(), download=False)
    x = torch.stack([train_set[i][0] for i in range(batch)])
    labels = torch.tensor([int(train_set[i][1]) for i in range(batch)])
    torch.manual_seed(0)
    inputs = resolve(recipe.encoder)(x, recipe.num_steps, **recipe.encoder_kwargs)
    torch.manual_seed(1)
    model = build_model(recipe, inputs.shape[2]).train()
    loss = resolve(recipe.loss)(**recipe.loss_kwargs)(model(inputs, labels), labels)
    loss.sum().backward()
    return {name: p.grad.detach().flatten().clone() for name, p in model.named_parameters()
            if p.grad is not None and p.dim() > 1}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("protocol", choices=sorted(PROTOCOLS))
    parser.add_argument("arm_a")
    parser.add_argument("arm_b")
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()
    torch.set_num_threads(1)
    a = gradients(args.protocol, args.arm_a, args.batch)
    b = gradients(args.protocol, args.arm_b, args.batch)
    rows = [{"layer": name, "norm_a": float(a[name].norm()), "norm_b": float(b[name].norm()),
             "cosine": float(torch.nn.functional.cosine_similarity(a[name], b[name], dim=0))}
            for name in a]
    record = {"protocol": args.protocol, "arm_a": args.arm_a, "arm_b": args.arm_b,
              "batch": args.batch, "date": time.strftime("%Y-%m-%d"), "layers": rows}
    runs = json.loads(RESULTS.read_text()) if RESULTS.exists() else []
    runs = [r for r in runs if (r["protocol"], r["arm_a"], r["arm_b"])
            != (args.protocol, args.arm_a, args.arm_b)] + [record]
    RESULTS.write_text(json.dumps(runs, indent=1) + "\n")
    lines = ["# Gradients at initialisation, per weight layer", "",
             f"Written by `benchmarks/effects_gradients.py` from `{RESULTS.name}`: one batch of "
             "training samples, the same initial weights for both arms; norm of each arm's "
             "gradient and the cosine between them.", ""]
    for r in runs:
        lines += [f"## {r['protocol']}: {r['arm_a']} vs {r['arm_b']} (batch {r['batch']})", "",
                  f"| layer | norm {r['arm_a']} | norm {r['arm_b']} | ratio | cosine |",
                  "|---|---|---|---|---|"]
        lines += [f"| {x['layer']} | {x['norm_a']:.3g} | {x['norm_b']:.3g} | "
                  f"{x['norm_b'] / x['norm_a']:.2f} | {x['cosine']:.2f} |" for x in r["layers"]]
        lines.append("")
    RESULTS.with_suffix(".md").write_text("\n".join(lines))
    print(RESULTS.with_suffix(".md").read_text())


if __name__ == "__main__":
    main()
