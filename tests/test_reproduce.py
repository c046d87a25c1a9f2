"""Seeds, the report command and the "Reproducing the papers" page, on fake and tiny runs."""

import json
import re
from pathlib import Path

import numpy as np
import pytest
from tiny import TINY

import snntorch_ext as snx
from snntorch_ext.cli import main
from snntorch_ext.recipes._recipe import percent
from snntorch_ext.reproduce import (
    ReportError,
    Run,
    docs_page,
    find_runs,
    group_runs,
    seed_summary,
    sweep_plots,
    train_seeds,
    write_report,
)

ROOT = Path(__file__).resolve().parent.parent
PAPERS = ROOT.parent / "shared" / "papers"


def fake_run(folder, recipe, *, seed=0, test_acc=0.9, best=None, quick=True, epochs=2,
             num_steps=None, firing_rate=0.1, ratio=None, seconds=36.0, device="cpu"):
    """Write the run.json and summary.json that the engine writes, with chosen numbers."""
    folder = Path(folder)
    folder.mkdir(parents=True)
    fields = {"name": recipe, "paper": "my paper", "table": "my row", "num_steps": 4}
    if recipe in snx.recipes.names():
        known = snx.recipes.get(recipe)
        fields = (known.quick_variant() if quick else known).to_dict()
    fields["epochs"] = epochs
    if num_steps is not None:
        fields["num_steps"] = num_steps
    config = {"config": {"recipe": fields, "quick": quick, "seed": seed}, "versions": {}}
    (folder / "run.json").write_text(json.dumps(config))
    summary = {"recipe": recipe, "quick": quick, "test_acc": test_acc,
               "best_test_acc": test_acc if best is None else best, "epochs": epochs,
               "seconds": seconds, "firing_rate": firing_rate,
               "energy": None if ratio is None else {"ratio": ratio}, "device": device,
               "seed": seed, "versions": {"snntorch_ext": "0.1.0"}}
    (folder / "summary.json").write_text(json.dumps(summary))
    return folder


# --------------------------------------------------------------------------- seeds

def test_seed_summary_mean_and_sample_sd(tmp_path):
    accuracies = [0.90, 0.92, 0.97]
    for seed, acc in enumerate(accuracies):
        fake_run(tmp_path / f"seed-{seed}", "stbp-mnist", seed=seed, test_acc=acc,
                 best=acc + 0.01)
    summary = seed_summary(find_runs(tmp_path))
    assert summary["seeds"] == [0, 1, 2]
    assert summary["test_acc"]["n"] == 3
    assert summary["test_acc"]["mean"] == pytest.approx(np.mean(accuracies), abs=1e-12)
    assert summary["test_acc"]["sd"] == pytest.approx(np.std(accuracies, ddof=1), abs=1e-12)
    assert summary["best_test_acc"]["mean"] == pytest.approx(np.mean(accuracies) + 0.01)
    assert "n - 1" in summary["sd"]


def test_one_seed_has_no_sd(tmp_path):
    fake_run(tmp_path / "seed-3", "stbp-mnist", seed=3, test_acc=0.5)
    summary = seed_summary(find_runs(tmp_path))
    assert summary["test_acc"] == {"mean": 0.5, "sd": None, "n": 1}


def test_train_seeds_writes_seed_folders_and_summary(tmp_path, data_root):
    out = tmp_path / "seeds"
    summary = train_seeds(TINY, [0, 2], out=out, data_root=data_root, epochs=1, progress=False)
    per_seed = [json.loads((out / f"seed-{s}" / "summary.json").read_text()) for s in (0, 2)]
    assert [s["seed"] for s in per_seed] == [0, 2]
    accs = [s["test_acc"] for s in per_seed]
    assert summary["test_acc"]["mean"] == pytest.approx(np.mean(accs))
    assert summary["test_acc"]["sd"] == pytest.approx(np.std(accs, ddof=1))
    assert json.loads((out / "seeds.json").read_text()) == summary
    rows = (out / "seeds.csv").read_text().splitlines()
    assert rows[0].startswith("seed,test_acc") and rows[1].startswith("0,")
    assert rows[-2].startswith("mean,") and rows[-1].startswith("sd,")
    again = train_seeds(TINY, [0, 2], out=out, data_root=data_root, epochs=1, progress=False,
                        resume=True)
    assert again["test_acc"] == summary["test_acc"]


def test_train_seeds_refuses_a_single_run_folder(tmp_path, data_root):
    fake_run(tmp_path / "run", "tiny")
    with pytest.raises(ValueError, match="holds a single run"):
        train_seeds(TINY, [0, 1], out=tmp_path / "run", data_root=data_root, progress=False)


@pytest.mark.parametrize("argv, message", [
    (["--seed", "1", "--seeds", "0,1"], "--seed 1 and --seeds 0,1 were both given"),
    (["--seeds", "0,0"], "must not repeat a seed"),
    (["--seeds", "0,x"], "comma-separated integers"),
])
def test_bad_seeds_exit_2(tmp_path, capsys, argv, message):
    out = tmp_path / "r"
    assert main(["train", "stbp-mnist", "--quick", "--out", str(out), *argv]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_seeds_command_passes_the_train_options(tmp_path, capsys, monkeypatch):
    calls = []

    def fake_train_seeds(recipe, seeds, **kwargs):
        calls.append((recipe, seeds, kwargs))
        return seed_summary([Run(recipe=recipe, quick=True, seed=s, epochs=1, num_steps=8,
                                 test_acc=0.5 + s / 10, best_test_acc=0.6, seconds=1.0,
                                 device="cpu") for s in seeds])

    monkeypatch.setattr(snx.reproduce, "train_seeds", fake_train_seeds)
    out = str(tmp_path / "r")
    assert main(["train", "stbp-mnist", "--quick", "--seeds", "0,1", "--epochs", "1",
                 "--device", "cpu", "--out", out, "--no-progress", "--resume"]) == 0
    (recipe, seeds, kwargs), = calls
    assert (recipe, seeds) == ("stbp-mnist", [0, 1])
    assert {k: kwargs[k] for k in ("out", "quick", "epochs", "device", "progress", "resume")} \
        == {"out": out, "quick": True, "epochs": 1, "device": "cpu", "progress": False,
            "resume": True}
    assert "seed" not in kwargs
    assert "test accuracy 0.5500 +- 0.0707 (mean +- sample sd, n = 2)" in capsys.readouterr().out


# --------------------------------------------------------------------------- report

@pytest.fixture
def runs_dir(tmp_path):
    root = tmp_path / "runs"
    for seed, acc in enumerate([0.90, 0.92, 0.97]):
        fake_run(root / "bpsta-mnist" / f"seed-{seed}", "bpsta-mnist", seed=seed, test_acc=acc,
                 firing_rate=0.09, ratio=30.0)
    for steps in (4, 8):
        for rule, acc in (("bpsta", 0.8), ("baseline", 0.6)):
            fake_run(root / f"lat-{rule}-{steps}", f"bpsta-latency-{rule}-t{steps}",
                     test_acc=acc + steps / 100)
    for p, acc in ((0.1, 0.5), (0.5, 0.6)):
        fake_run(root / f"p{p}", f"msg-psweep-vggsnn-pl-p{p}", test_acc=acc, epochs=5)
    for steps, acc in ((20, 0.7), (100, 0.75)):
        fake_run(root / f"asf-{steps}", "asf-mnist-if", test_acc=acc, num_steps=steps)
    fake_run(root / "asf-t10", "asf-mnist-if-t10", test_acc=0.6)  # quick: T = 2
    (root / "unfinished").mkdir()
    (root / "unfinished" / "run.json").write_text("{}")
    return root


def test_report_tables(runs_dir, tmp_path):
    written = write_report(runs_dir, tmp_path / "report")
    assert written["runs"] == 3 + 4 + 2 + 3 and written["groups"] == 1 + 4 + 2 + 3
    md = (tmp_path / "report" / "report.md").read_text()
    row = next(line for line in md.splitlines() if line.startswith("| bpsta-mnist "))
    cells = [c.strip() for c in row.strip("|").split("|")]
    mean, sd = 100 * np.mean([0.90, 0.92, 0.97]), 100 * np.std([0.90, 0.92, 0.97], ddof=1)
    assert cells[2] == "99.58 +- 0.06%"
    assert cells[3] == f"{mean:.2f} +- {sd:.2f}% (n = 3)"
    assert cells[5] == "quick, 2 epochs" and cells[6] == "cpu" and cells[7] == "0.010"
    assert cells[8] == "0.090 / 0.082" and cells[9] == "30.0x / 35.1x"
    assert "## " + snx.recipes.get("bpsta-mnist").paper in md
    asf = next(line for line in md.splitlines() if line.startswith("| asf-mnist-if "))
    assert asf.rstrip(" |").endswith("| - | -")  # the paper reports no firing rate
    for stem in ("sweep-bpsta-latency-quick-2ep", "sweep-msg-p-quick-5ep", "sweep-asf-t-quick-2ep"):
        assert f"({stem}.png)" in md
        assert (tmp_path / "report" / f"{stem}.png").read_bytes().startswith(b"\x89PNG")


def test_report_html_is_self_contained(runs_dir, tmp_path):
    write_report(runs_dir, tmp_path)
    page = (tmp_path / "report.html").read_text()
    assert "<script" not in page and "<link" not in page
    assert not re.search(r"""(src|href)=["'](?!data:)""", page)
    images = re.findall(r'<img alt="[^"]*" src="data:image/png;base64,', page)
    assert len(images) == 3
    assert "<td>bpsta-mnist</td>" in page and "<td>99.58 +- 0.06%</td>" in page


def test_sweep_points(runs_dir):
    plots = {plot.sweep.key: plot for plot in sweep_plots(group_runs(find_runs(runs_dir)))}
    latency = plots["bpsta-latency"]
    assert latency.quick and latency.epochs == 2
    assert [(x, round(m, 6)) for x, m, _, _ in latency.ours["bpsta"]] == [(4, 84.0), (8, 88.0)]
    assert latency.paper["bpsta"] == [(4, 96.18), (8, 96.18), (16, 98.26), (32, 98.27)]
    assert [x for x, *_ in plots["msg-p"].ours["vggsnn-pl"]] == [0.1, 0.5]
    assert plots["msg-p"].paper == {}  # Fig. 5 prints no number
    assert [x for x, *_ in plots["asf-t"].ours["asf-mnist-if"]] == [2, 20, 100]
    assert plots["asf-t"].paper == {"asf-mnist-if": [(100, 99.65)]}


def test_a_single_point_is_no_sweep(tmp_path):
    fake_run(tmp_path / "a", "bpsta-latency-bpsta-t4")
    assert sweep_plots(group_runs(find_runs(tmp_path))) == []


def test_report_command(runs_dir, tmp_path, capsys):
    assert main(["report", str(runs_dir), "--out", str(tmp_path / "r"),
                 "--results", str(tmp_path / "results.json")]) == 0
    assert "12 runs in 10 groups" in capsys.readouterr().out
    records = json.loads((tmp_path / "results.json").read_text())["runs"]
    assert [Run.from_record(r).recipe for r in records][:3] == ["bpsta-mnist"] * 3


@pytest.mark.parametrize("make", ["empty", "missing", "unfinished"])
def test_report_without_runs_exits_2(tmp_path, capsys, make):
    folder = tmp_path / "runs"
    if make != "missing":
        folder.mkdir()
    if make == "unfinished":
        (folder / "a").mkdir()
        (folder / "a" / "run.json").write_text("{}")
    assert main(["report", str(folder)]) == 2
    err = capsys.readouterr().err
    assert str(folder) in err and ("no finished run" in err or "does not exist" in err)
    assert not (folder / "report.md").exists()


def test_report_with_unreadable_run_exits_2(tmp_path, capsys):
    folder = fake_run(tmp_path / "a", "stbp-mnist")
    (folder / "summary.json").write_text("{not json")
    assert main(["report", str(tmp_path)]) == 2
    assert "summary.json is unreadable" in capsys.readouterr().err


def test_report_needs_folder_or_docs(capsys):
    assert main(["report"]) == 2
    assert "either RUNS_DIR" in capsys.readouterr().err


def test_find_runs_error_is_a_report_error(tmp_path):
    with pytest.raises(ReportError, match="no finished run below"):
        find_runs(tmp_path)


# --------------------------------------------------------------------------- docs page

def test_docs_page_is_deterministic_and_lists_every_recipe(runs_dir, tmp_path):
    snx.reproduce.save_results(runs_dir, tmp_path / "results.json")
    results = json.loads((tmp_path / "results.json").read_text())
    estimates = {"hours": {"bpsta-mnist": 12.345}, "method": "test"}
    page = docs_page(results, estimates)
    assert page == docs_page(json.loads(json.dumps(results)), estimates)
    for name in snx.recipes.names():
        assert f"``snntorch-ext train {name}``" in page
    row = page[page.index("``bpsta-mnist``"):page.index("``bpsta-cifar10``")]
    assert "99.58 +- 0.06%" in row and "(n = 3; 2 of 12 quick epochs" in row
    assert "~12.3 h (estimate)" in row
    cifar = page[page.index("``bpsta-cifar10``"):page.index("``bpsta-nmnist``")]
    assert "not measured" in cifar and "not estimated" in cifar


def test_committed_docs_page_is_generated(tmp_path):
    results = ROOT / "docs" / "results" / "quick_runs.json"
    estimates = ROOT / "docs" / "results" / "gpu_estimates.json"
    out = tmp_path / "reproducing.rst"
    snx.reproduce.write_docs_page(results, out, estimates if estimates.exists() else None)
    assert out.read_text() == (ROOT / "docs" / "reproducing.rst").read_text(), (
        "docs/reproducing.rst is stale: run `snntorch-ext report --docs`")


# --------------------------------------------------------------------------- paper figures

def test_table_rows_print_the_paper_figures():
    for recipe in snx.recipes.all_recipes().values():
        if recipe.paper_value is not None:
            assert percent(recipe.paper_value, recipe.paper_sd) in recipe.table, recipe.name
        for figure in (recipe.paper_firing_rate, recipe.paper_energy_ratio):
            if figure is not None:
                assert str(figure) in recipe.table, recipe.name


_PAPER_FILES = {"Shen": "bpsta_shen2022.txt", "Yang": "msg_two_yang2024.txt",
                "Wu et al. 2021": "asf_wu2021_slides.md", "Spiking sequence": "ssl_stbp_2024.txt",
                "Wu et al. 2018": "bpsta_shen2022.txt"}  # STBP's MNIST number, as BPSTA cites it


@pytest.mark.skipif(not PAPERS.is_dir(), reason="the papers are not available")
@pytest.mark.parametrize("recipe", list(snx.recipes.all_recipes().values()), ids=lambda r: r.name)
def test_paper_figures_appear_in_the_paper(recipe):
    source = next(f for prefix, f in _PAPER_FILES.items() if recipe.paper.startswith(prefix))
    text = (PAPERS / source).read_text()
    if recipe.paper_value is not None:
        assert f"{recipe.paper_value:.2f}" in text
    if recipe.paper_sd is not None:
        assert re.search(rf"{recipe.paper_value:.2f}\D{{0,40}}{recipe.paper_sd:.2f}", text)
    if recipe.paper_firing_rate is not None:
        assert re.search(rf"{recipe.paper_firing_rate}\b.*{recipe.paper_energy_ratio}x", text)
