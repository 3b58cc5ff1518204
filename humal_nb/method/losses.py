"""Alignment losses between machine and human attention (paper eq. 2 and 4).

The paper writes "+ alpha * cosine_similarity"; minimizing that would push attention away
from humans, so the cosine *distance* 1 - cos is used. `kl` and `mse` are the
alternatives used in later work.
"""

from __future__ import annotations

import torch

from humal_nb.core.errors import ParameterError
from humal_nb.core.names import ATTENTION_LOSSES

LOSS_KINDS = ATTENTION_LOSSES
_EPS = 1e-12


def alignment_loss(
    machine: torch.Tensor,
    human: torch.Tensor,
    mask: torch.Tensor,
    kind: str = "cosine",
) -> torch.Tensor:
    """Mean over the batch of the distance between machine and human attention.

    Args:
        machine: [batch, tokens] machine attention A^m (rows sum to 1 over real tokens).
        human: [batch, tokens] human attention A^h (rows sum to 1, zero on special tokens).
        mask: [batch, tokens] 1 for real tokens, 0 for padding; padding is ignored.
        kind: "cosine" (1 - cos, default), "kl" (KL(human || machine)) or "mse".

    Rows whose human attention is all zero (nothing highlighted survived truncation) are
    left out of the mean; a batch with none left gives 0 (still differentiable).
    """
    if kind not in LOSS_KINDS:
        raise ParameterError(f"attention loss {kind!r} is unknown; valid: {', '.join(LOSS_KINDS)}.")
    if machine.shape != human.shape or machine.shape != mask.shape:
        raise ValueError(
            f"machine {tuple(machine.shape)}, human {tuple(human.shape)} and mask "
            f"{tuple(mask.shape)} must have the same [batch, tokens] shape."
        )
    mask = mask.float()
    machine = machine.float() * mask
    human = human.float() * mask
    valid = (human.sum(dim=-1) > 0).float()
    if kind == "cosine":
        cos = (machine * human).sum(-1) / (
            machine.norm(dim=-1).clamp_min(_EPS) * human.norm(dim=-1).clamp_min(_EPS)
        )
        per_row = 1.0 - cos
    elif kind == "kl":
        p = human / human.sum(-1, keepdim=True).clamp_min(_EPS)
        q = machine / machine.sum(-1, keepdim=True).clamp_min(_EPS)
        terms = torch.where(p > 0, p * (torch.log(p.clamp_min(_EPS)) - torch.log(q.clamp_min(_EPS))), 0.0)
        per_row = terms.sum(-1)
    else:
        n = mask.sum(-1).clamp_min(1.0)
        per_row = ((machine - human) ** 2 * mask).sum(-1) / n
    return (per_row * valid).sum() / valid.sum().clamp_min(1.0)
