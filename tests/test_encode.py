"""Encoders and readouts."""

import pytest
import torch

import snntorch_ext as snx


def test_direct_repeats_the_image():
    x = torch.rand(2, 1, 4, 4)
    y = snx.functional.direct(x, 5)
    assert y.shape == (5, 2, 1, 4, 4)
    assert all(torch.equal(y[t], x) for t in range(5))


def test_rate_is_bernoulli_with_the_intensity():
    torch.manual_seed(0)
    x = torch.tensor([0.0, 0.25, 1.0]).expand(4000, 3)
    y = snx.functional.rate(x, 10)
    assert y.shape == (10, 4000, 3)
    assert set(y.unique().tolist()) <= {0.0, 1.0}
    assert y.mean((0, 1)).tolist() == pytest.approx([0.0, 0.25, 1.0], abs=0.01)


def test_time_major_checks_steps():
    x = torch.zeros(2, 7, 2, 3, 3)
    assert snx.functional.time_major(x, 7).shape == (7, 2, 2, 3, 3)
    with pytest.raises(ValueError, match="T=5"):
        snx.functional.time_major(x, 5)


@pytest.mark.parametrize("bad", [0, -2, 1.5, True])
def test_bad_num_steps(bad):
    with pytest.raises(ValueError, match="num_steps"):
        snx.functional.direct(torch.zeros(1, 2), bad)


def test_rate_scores():
    out = torch.tensor([[[0.0, 1.0]], [[1.0, 1.0]]])
    assert snx.functional.rate_scores(out).tolist() == [[0.5, 1.0]]
    assert snx.functional.rate_scores(out[0]).tolist() == [[0.0, 1.0]]
    with pytest.raises(ValueError, match="out must be"):
        snx.functional.rate_scores(torch.zeros(2))
