"""MSG's masks for a whole sequence: one draw on the CPU, the values of the per-step draws."""

from __future__ import annotations

import pytest
import torch

from snntorch_ext.kernels.function import draw_keep
from snntorch_ext.kernels.spec import SurrogateSpec
from snntorch_ext.surrogate import _keep


def _spec(seed: int, p: float = 0.3) -> SurrogateSpec:
    return SurrogateSpec("piecewise_linear", 2.0, torch.ones_like, p=p,
                         generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("shape", [(5, 7), (3, 2, 3, 4, 4), (9, 1)])
def test_one_draw_equals_the_per_step_draws(shape: tuple[int, ...],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Step by step from the last step (as the per-step backward pass draws), an odd number of
    elements per step included (each step's draw is padded to whole 64-bit words)."""
    mem = torch.zeros(shape, dtype=torch.float64)
    sg, reference = _spec(5), torch.Generator().manual_seed(5)
    calls = []
    random_ = torch.Tensor.random_
    monkeypatch.setattr(torch.Tensor, "random_",
                        lambda self, *a, **k: calls.append(1) or random_(self, *a, **k))
    keep = draw_keep(mem, sg)
    assert len(calls) == 1
    monkeypatch.undo()
    expected = torch.empty(shape, dtype=torch.bool)
    for t in range(shape[0] - 1, -1, -1):
        expected[t] = _keep(expected[t], 0.3, reference)
    assert keep.dtype == torch.bool and torch.equal(keep, expected)
    assert 0 < keep.count_nonzero() < keep.numel()
    assert torch.equal(sg.generator.get_state(), reference.get_state())


def test_masks_are_laid_out_like_the_membrane() -> None:
    mem = torch.zeros(3, 2, 4, 5, 6).permute(0, 1, 4, 2, 3)  # channels-last steps
    keep = draw_keep(mem, _spec(1))
    assert keep.stride() == mem.stride()


def test_no_mask_without_msg() -> None:
    assert draw_keep(torch.zeros(2, 3), _spec(1, p=0.0)) is None
