"""Alignment losses (paper eq. 2/4) on hand-computed vectors."""

import math

import pytest
import torch

from humal_nb.core.errors import ParameterError
from humal_nb.method.losses import alignment_loss

MACHINE = torch.tensor([[0.5, 0.25, 0.25, 0.0]])
HUMAN = torch.tensor([[0.0, 0.5, 0.5, 0.0]])
MASK = torch.tensor([[1, 1, 1, 0]])


def test_cosine_by_hand():
    # cos = (0.125 + 0.125) / (sqrt(0.375) * sqrt(0.5))
    expected = 1 - 0.25 / (math.sqrt(0.375) * math.sqrt(0.5))
    assert alignment_loss(MACHINE, HUMAN, MASK).item() == pytest.approx(expected, abs=1e-6)


def test_kl_by_hand():
    expected = 0.5 * math.log(0.5 / 0.25) * 2
    assert alignment_loss(MACHINE, HUMAN, MASK, kind="kl").item() == pytest.approx(expected, abs=1e-6)


def test_mse_by_hand_ignores_padding():
    machine = torch.tensor([[0.5, 0.25, 0.25, 9.0]])  # padding value must not count
    expected = (0.25 + 0.0625 + 0.0625) / 3
    assert alignment_loss(machine, HUMAN, MASK, kind="mse").item() == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("kind", ["cosine", "kl", "mse"])
def test_zero_when_equal(kind):
    assert alignment_loss(HUMAN.clone(), HUMAN, MASK, kind=kind).item() == pytest.approx(0.0, abs=1e-6)


def test_mean_over_batch_skips_rows_without_human_attention():
    machine = torch.cat([MACHINE, MACHINE])
    human = torch.cat([HUMAN, torch.zeros_like(HUMAN)])
    mask = torch.cat([MASK, MASK])
    assert alignment_loss(machine, human, mask).item() == pytest.approx(
        alignment_loss(MACHINE, HUMAN, MASK).item(), abs=1e-6
    )


def test_gradient_flows_to_machine_attention():
    machine = MACHINE.clone().requires_grad_(True)
    alignment_loss(machine, HUMAN, MASK).backward()
    assert machine.grad is not None and machine.grad.abs().sum() > 0
    assert machine.grad[0, 3] == 0  # padding gets no gradient


def test_unknown_kind_and_shape_mismatch():
    with pytest.raises(ParameterError, match="cosine"):
        alignment_loss(MACHINE, HUMAN, MASK, kind="dot")
    with pytest.raises(ValueError, match="same"):
        alignment_loss(MACHINE, HUMAN[:, :3], MASK)
