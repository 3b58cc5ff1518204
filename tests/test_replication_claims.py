"""The rules that judge the paper's claims on a replication record (README "Replication")."""

import math

import numpy as np
import pandas as pd

from humal_nb.analyses import replication
from humal_nb.cli import records
from humal_nb.measures import analysis


def _row(p: float, wins: int, pairs: int, equivalence_p: float = math.nan, detectable: float = 0.2) -> dict:
    return {"p_value": p, "wins": wins, "pairs": pairs, "equivalence_p": equivalence_p, "detectable": detectable}


def test_a_starred_cell_needs_significance_an_unstarred_one_shown_equivalence():
    verdict = replication.table3_verdict
    assert verdict(True, _row(0.01, 5, 5)).startswith("holds")
    assert verdict(True, _row(0.2, 4, 5)).startswith("direction only")
    assert verdict(True, _row(0.2, 2, 5, equivalence_p=0.01)).startswith("does not hold: no gain (within +-0.02")
    assert verdict(False, _row(0.3, 3, 5, equivalence_p=0.01)).startswith("holds: no gain (within +-0.02")
    assert verdict(False, _row(0.01, 5, 5)).startswith("does not hold")
    assert verdict(True, _row(math.nan, 1, 1)) == verdict(True, _row(0.01, 1, 1)) == "too few pairs yet"


def test_absence_of_a_significant_gain_without_equivalence_is_inconclusive():
    """HuMAL-AN at 250 x 1 % in the record: +0.13 AUC, p = 0.11 from 5 pairs is not "no gain"."""
    for starred in (True, False):
        text = replication.table3_verdict(starred, _row(0.11, 2, 5, equivalence_p=0.9, detectable=0.28))
        assert text == ("inconclusive at n = 5 (not shown within +-0.02 AUC; 5 pairs could detect a gain of "
                        "0.28 at 80 % power)")


def test_every_no_gain_verdict_in_the_docs_is_backed_by_equivalence_or_inconclusive():
    from humal_nb.core.paths import REPO_ROOT

    readme = (REPO_ROOT / "docs" / "replication.md").read_text()
    blocks = [readme.split(b, 1)[1].split(e, 1)[0] for b, e in (records.markers(""), records.markers("gpu"))]
    verdicts = [line.rsplit("|", 2)[-2] for block in blocks for line in block.splitlines()
                if line.startswith("| ") and "no gain" in line]
    for text in verdicts:
        assert "equivalence p = " in text or text.strip().startswith("inconclusive"), text
    assert not any("no significant gain" in block for block in blocks)


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
                         "human_high_attention_rate": 0.2, "human_highlight_rate": 0.15})
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
