"""cached_train: a second identical run is copied from the cache, anything else trains."""

import dataclasses
import json

import pytest
from tiny import TINY

import snntorch_ext as snx
from snntorch_ext.engine import cached_train, run_key


def _cached(out, cache, data_root, calls, recipe=TINY, **kwargs):
    return cached_train(recipe, out=out, cache=cache, data_root=data_root, progress=False,
                        epochs=1, callbacks=[lambda epoch, row: calls.append(epoch)], **kwargs)


def test_second_identical_run_is_copied_not_trained(tmp_path, data_root):
    calls = []
    first = _cached(tmp_path / "a", tmp_path / "cache", data_root, calls)
    assert calls == [1]
    (tmp_path / "a" / "extra.json").write_text("{}")  # written after caching: not cached
    second = _cached(tmp_path / "b", tmp_path / "cache", data_root, calls)
    assert calls == [1], "the identical run trained again"
    assert second == first
    assert (tmp_path / "b" / "last.pt").is_file()
    assert json.loads((tmp_path / "b" / "summary.json").read_text()) == first
    assert not (tmp_path / "b" / "extra.json").exists()


def test_other_settings_or_recipe_train_again(tmp_path, data_root):
    calls = []
    _cached(tmp_path / "a", tmp_path / "cache", data_root, calls)
    _cached(tmp_path / "b", tmp_path / "cache", data_root, calls, seed=1)
    other = dataclasses.replace(TINY, num_steps=3)
    _cached(tmp_path / "c", tmp_path / "cache", data_root, calls, recipe=other)
    assert calls == [1, 1, 1]


def test_key_follows_quick_variant_and_code():
    assert run_key("stbp-mnist", quick=True) != run_key("stbp-mnist")
    assert run_key("stbp-mnist", quick=True, device="auto") == run_key("stbp-mnist", quick=True)
    assert len(snx.engine.code_version()) == 64


def test_unknown_setting_is_refused():
    with pytest.raises(ValueError, match="settings must be among"):
        run_key("stbp-mnist", lr=0.1)
