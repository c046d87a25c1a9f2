"""STBP's rectangular surrogate: Heaviside forward, 1/w window backward, dtype kept."""

import pytest
import snntorch as snn
import torch

import snntorch_ext as snx


@pytest.mark.parametrize("width", [1.0, 0.5, 2.0])
def test_gradient_is_window_of_height_one_over_width(width):
    z = torch.tensor([-2.0, -0.4, -0.2, 0.0, 0.2, 0.4, 0.9, 2.0], dtype=torch.float64,
                     requires_grad=True)
    spk = snx.surrogate.rectangular(width)(z)
    spk.sum().backward()
    expected = [(1.0 / width) if abs(v) < width / 2 else 0.0 for v in z.tolist()]
    assert z.grad.tolist() == pytest.approx(expected)
    assert spk.tolist() == [0, 0, 0, 0, 1, 1, 1, 1]  # H(z) = 1[z > 0], snnTorch's convention
    assert spk.dtype == torch.float64


def test_works_as_spike_grad_of_snn_leaky():
    lif = snn.Leaky(beta=0.5, threshold=1.0, spike_grad=snx.surrogate.rectangular(1.0))
    x = torch.tensor([[1.2, 0.9, 3.0]], requires_grad=True)
    spk, mem = lif(x, torch.zeros(1, 3))
    spk.sum().backward()
    assert spk.tolist() == [[1.0, 0.0, 1.0]]
    assert x.grad.tolist() == [[1.0, 1.0, 0.0]]  # |u - 1| < 0.5 for 1.2 and 0.9 only


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), "wide"])
def test_bad_width_is_a_value_error(bad):
    with pytest.raises(ValueError, match="width"):
        snx.surrogate.rectangular(bad)


def test_repr_names_parameters():
    assert repr(snx.surrogate.rectangular(0.5)) == "rectangular(width=0.5)"
