"""The command line: list, and every bad input gives exit code 2 and overwrites nothing."""

import subprocess
import sys

import pytest
import torch
from tiny import TINY

import snntorch_ext as snx
from snntorch_ext.cli import main
from snntorch_ext.engine import train


def _files(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir()}


@pytest.fixture
def tiny_run(tmp_path, data_root):
    out = tmp_path / "tiny-run"
    train(TINY, out=out, data_root=data_root, epochs=1, progress=False)
    return out


def test_list_prints_every_recipe(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    assert main(["list"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines()
             if not line.startswith("-- ")]  # the headings of the blocks of a paper's table
    assert len(lines) == len(snx.recipes.names()) + 1
    assert "stbp-mnist" in lines[1] and "Wu et al. 2018" in lines[1]


@pytest.mark.parametrize("columns", [80, 100, 120])
def test_list_fits_the_terminal(capsys, monkeypatch, columns):
    monkeypatch.setenv("COLUMNS", str(columns))
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert max(len(line) for line in lines) <= columns


def test_list_filter(capsys):
    assert main(["list", "bpsta-ablation"]) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()[1:]]
    assert names == ["bpsta-ablation-baseline", "bpsta-ablation-bpsa", "bpsta-ablation-bpsta"]
    assert main(["list", "JEIT"]) == 0
    assert "ssl-nmnist-hamming" in capsys.readouterr().out
    assert main(["list", "no-such-thing"]) == 2
    assert "no-such-thing" in capsys.readouterr().err


def test_show_gives_every_detail(capsys):
    assert main(["show", "bpsta-mnist"]) == 0
    text = capsys.readouterr().out
    recipe = snx.recipes.get("bpsta-mnist")
    flat = " ".join(text.split())
    for expected in (recipe.paper, recipe.table, "mnist_offline", "AdamW",
                     "snntorch-ext train bpsta-mnist --download --device cuda",
                     "snntorch-ext train bpsta-mnist --quick"):
        assert " ".join(expected.split()) in flat, expected


def test_show_unknown_recipe_suggests_names(capsys):
    assert main(["show", "bpsta-mnst"]) == 2
    assert "bpsta-mnist" in capsys.readouterr().err


def test_module_entry_point():
    done = subprocess.run([sys.executable, "-m", "snntorch_ext", "list"], capture_output=True,
                          text=True, check=True)
    assert "stbp-mnist" in done.stdout


def test_unknown_recipe_lists_valid_ones(capsys):
    assert main(["train", "no-such-recipe"]) == 2
    err = capsys.readouterr().err
    assert "no-such-recipe" in err and "stbp-mnist" in err


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_cuda(tmp_path, capsys):
    assert main(["train", "stbp-mnist", "--quick", "--device", "cuda", "--out",
                 str(tmp_path / "r")]) == 2
    assert "CUDA is not available" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_out_dir_of_another_recipe(tiny_run, capsys):
    before = _files(tiny_run)
    assert main(["train", "stbp-mnist", "--quick", "--out", str(tiny_run)]) == 2
    assert "holds a run of recipe 'tiny'" in capsys.readouterr().err
    assert _files(tiny_run) == before


def test_out_dir_with_foreign_files(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["train", "stbp-mnist", "--quick", "--out", str(tmp_path)]) == 2
    assert "holds no snntorch-ext run" in capsys.readouterr().err
    assert _files(tmp_path) == {"notes.txt": b"mine"}


def test_unreadable_checkpoint(tiny_run, data_root):
    (tiny_run / "last.pt").write_bytes(b"not a checkpoint")
    before = _files(tiny_run)
    with pytest.raises(ValueError, match="last.pt is unreadable"):
        train(TINY, out=tiny_run, data_root=data_root, epochs=1, resume=True, progress=False)
    assert _files(tiny_run) == before


def test_mismatched_checkpoint(tiny_run, data_root):
    ckpt = torch.load(tiny_run / "last.pt", weights_only=True)
    ckpt["model"] = {k: v[..., :1] if v.dim() else v for k, v in ckpt["model"].items()}
    torch.save(ckpt, tiny_run / "last.pt")
    before = _files(tiny_run)
    with pytest.raises(ValueError, match="does not match the model of tiny"):
        train(TINY, out=tiny_run, data_root=data_root, epochs=1, resume=True, progress=False)
    assert _files(tiny_run) == before


def test_cli_maps_checkpoint_errors_to_exit_2(tmp_path, data_root, capsys):
    out = tmp_path / "stbp"
    out.mkdir()
    (out / "run.json").write_text('{"config": {"recipe": {"name": "stbp-mnist"}}}')
    (out / "last.pt").write_bytes(b"garbage")
    code = main(["train", "stbp-mnist", "--quick", "--resume", "--out", str(out),
                 "--data-root", str(data_root)])
    assert code == 2
    assert "error" in capsys.readouterr().err
    assert (out / "last.pt").read_bytes() == b"garbage"


def test_same_recipe_without_resume_refuses(tiny_run, data_root):
    before = _files(tiny_run)
    with pytest.raises(ValueError, match="--resume"):
        train(TINY, out=tiny_run, data_root=data_root, epochs=1, progress=False)
    with pytest.raises(ValueError, match="other settings.*epochs"):
        train(TINY, out=tiny_run, data_root=data_root, epochs=3, resume=True, progress=False)
    assert _files(tiny_run) == before


def test_overwrite_starts_again(tiny_run, data_root):
    summary = train(TINY, out=tiny_run, data_root=data_root, epochs=1, overwrite=True,
                    progress=False)
    assert summary["epochs"] == 1


def test_missing_dataset_is_exit_2(tmp_path, capsys):
    code = main(["train", "stbp-mnist", "--out", str(tmp_path / "r"), "--data-root",
                 str(tmp_path / "empty"), "--epochs", "1"])
    assert code == 2
    assert "download" in capsys.readouterr().err


@pytest.mark.parametrize("option, message", [
    (["--device", "cpu", "--precision", "fp16"], "--precision fp16 needs CUDA"),
    (["--compile"], "--compile needs PyTorch 2.0 or newer, this is 1.13.1"),
])
def test_precision_and_compile_refused_with_exit_2(tmp_path, capsys, monkeypatch, option,
                                                   message):
    if option == ["--compile"]:
        monkeypatch.setattr(torch, "__version__", "1.13.1")
    out = tmp_path / "r"
    code = main(["train", "stbp-mnist", "--quick", "--out", str(out), *option])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("snntorch-ext: error: ") and message in err, err
    assert "Traceback" not in err and not out.exists()
