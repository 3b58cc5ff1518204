"""The rules that judge the paper's claims on a replication record (README "Replication")."""

import math

import numpy as np
import pandas as pd

from humal_nb import analysis, replication


def test_a_starred_cell_needs_significance_an_unstarred_one_its_absence():
    verdict = replication.table3_verdict
    assert verdict(True, 0.01, 5, 5).startswith("holds")
    assert verdict(True, 0.2, 4, 5).startswith("direction only")
    assert verdict(True, 0.2, 2, 5).startswith("does not hold")
    assert verdict(False, 0.3, 3, 5).startswith("holds")
    assert verdict(False, 0.01, 5, 5).startswith("does not hold")
    assert verdict(True, math.nan, 1, 1) == verdict(True, 0.01, 1, 1) == "too few pairs yet"


def _curves(**named: list[float]) -> pd.DataFrame:
    """Position curves as `analysis.position_curves` gives them, from one 10-word text per source."""
    return analysis.position_curves({k: [np.asarray(v, dtype=float)] for k, v in named.items()})


def test_position_claims_follow_the_curves():
    human = [3, 1, 1, 1, 1, 1, 1, 1, 1, 1]  # highest at the start, flat after
    falling = [2.0, 1.8, 1.6, 1.4, 1.2, 1.0, 0.8, 0.6, 0.4, 0.2]
    between = [(h + b) / 2 for h, b in zip(human, falling)]
    claims = replication.position_claims(_curves(human=human, baseline=falling, al=between))
    verdicts = [c.verdict for c in claims]
    assert verdicts[0].startswith("holds") and verdicts[2] == "holds"
    assert "between the baseline and people in 10 of 10 bins" in claims[2].measured
    rising = falling[::-1]
    claims = replication.position_claims(_curves(human=rising, baseline=rising, al=human))
    assert [c.verdict for c in claims] == ["does not hold", "does not hold", "does not hold"]


def test_drift_and_closer_claims_on_cells():
    rows = []
    for b in range(3):
        for ratio, base_cos in ((0.01, 0.30), (0.50, 0.20)):
            rows.append({"strategy": "baseline", "data_size": 250, "imbalance_ratio": ratio, "bootstrap": b,
                         "cosine_to_human": base_cos, "high_attention_rate": 0.05,
                         "human_high_attention_rate": 0.15, "human_highlight_rate": 0.15})
            rows.append({**rows[-1], "strategy": "al", "cosine_to_human": 0.5, "high_attention_rate": 0.1})
    cells = pd.DataFrame(rows)
    closer, drift, people, machine = replication._closer_claim(cells), replication._drift_claim(cells), \
        *replication._rate_claims(cells)
    assert closer.verdict == "holds" and "6 of 6" in closer.measured
    assert drift.verdict == "holds" and "baseline 0.30 -> 0.20" in drift.measured
    assert people.verdict == "holds" and machine.verdict == "holds"
    cells.loc[(cells["strategy"] == "baseline") & (cells["imbalance_ratio"] == 0.50), "cosine_to_human"] = 0.6
    assert replication._drift_claim(cells).verdict.startswith("does not hold")
    assert replication._closer_claim(cells).verdict == "holds in 3 of 6 paired cells only"
