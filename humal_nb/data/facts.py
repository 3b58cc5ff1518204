"""The facts of a Yelp-HAT folder: maps, reviews, what each agreement rule keeps, length groups."""

from __future__ import annotations

import os
from collections import Counter
from statistics import mean, median
from typing import Any

from humal_nb.core.names import AGREEMENTS, LENGTH_GROUPS
from humal_nb.data.common import agreement_keeps, length_group_of
from humal_nb.data.yelp_hat import _file_keys, _yelp_files, _yelp_reviews


def data_info(data_dir: str | os.PathLike | None = None) -> dict[str, Any]:
    """Facts of a Yelp-HAT directory: maps, reviews, agreement, labels, length groups, highlight share."""
    directory, files = _yelp_files(data_dir)
    file_keys = _file_keys(files)
    reviews = _yelp_reviews(file_keys)
    all_maps = [m for _, group in reviews for m in group]
    shares = [sum(m.map) / len(m.map) for m in all_maps]
    per_file: dict[str, dict[str, Any]] = {}
    for path, group in reviews:
        entry = per_file.setdefault(
            path.name, {"maps": 0, "reviews": 0, "positive": 0, "negative": 0, "min_words": None, "max_words": 0}
        )
        n_words = len(group[0].map)
        entry["maps"] += len(group)
        entry["reviews"] += 1
        entry["positive" if group[0].label == 1 else "negative"] += 1
        entry["min_words"] = n_words if entry["min_words"] is None else min(entry["min_words"], n_words)
        entry["max_words"] = max(entry["max_words"], n_words)
    groups: dict[str, dict[str, Any]] = {}
    for _, group in reviews:
        n_words = len(group[0].map)
        entry = groups.setdefault(length_group_of(n_words), {"reviews": 0, "min_words": n_words, "max_words": n_words})
        entry["reviews"] += 1
        entry["min_words"] = min(entry["min_words"], n_words)
        entry["max_words"] = max(entry["max_words"], n_words)
    answers = Counter(m.answer or "(empty)" for m in all_maps)
    return {
        "data_dir": str(directory),
        "files": per_file,
        "maps": len(all_maps),
        "reviews": len(reviews),
        "maps_per_review": dict(sorted(Counter(len(g) for _, g in reviews).items())),
        "answers": dict(answers.most_common()),
        "agreement": {a: sum(agreement_keeps(sum(m.matches for m in g), len(g), a) for _, g in reviews) for a in AGREEMENTS},
        "labels": {
            "positive": sum(g[0].label == 1 for _, g in reviews),
            "negative": sum(g[0].label == 0 for _, g in reviews),
        },
        "length_groups": {name: groups[name] for name in LENGTH_GROUPS if name in groups},
        "highlight_share": {"mean": mean(shares), "median": median(shares)},
        "maps_highlighting_nothing": sum(s == 0 for s in shares),
    }


def _group_range(name: str) -> str:
    low, high = LENGTH_GROUPS[name]
    return f"<= {high} words" if low == 0 else f"{low}-{high} words" if high else f">= {low} words"


def format_data_info(info: dict[str, Any]) -> str:
    """`data_info` as the text `humal-nb data-info` prints."""
    agreement = info["agreement"]
    lines = [
        f"Yelp-HAT data in {info['data_dir']}",
        f"maps (rows):      {info['maps']:,}",
        f"reviews:          {info['reviews']:,}",
        "reviews by maps per review: "
        + ", ".join(
            f"{k} map{'s' * (k != 1)}: {v:,}" for k, v in sorted(info["maps_per_review"].items(), key=lambda kv: -kv[1])
        ),
        "reviews kept by agreement (all / majority / any): "
        f"{agreement['all']:,} / {agreement['majority']:,} / {agreement['any']:,}",
        f"labels:           {info['labels']['positive']:,} positive, {info['labels']['negative']:,} negative",
        "length groups:",
    ]
    for name, group in info["length_groups"].items():
        lines.append(
            f"  {name:<9} {group['reviews']:>6,} reviews, {group['min_words']}-{group['max_words']} words"
            f" (group: {_group_range(name)})"
        )
    share = info["highlight_share"]
    lines.append(
        f"highlighted words per map: mean {share['mean']:.1%}, median {share['median']:.1%}"
        f" ({info['maps_highlighting_nothing']:,} maps highlight nothing)"
    )
    lines.append("annotator answers: " + ", ".join(f"{k}: {v:,}" for k, v in info["answers"].items()))
    lines.append("files:")
    for name, entry in info["files"].items():
        lines.append(
            f"  {name}: {entry['reviews']:,} reviews ({entry['positive']:,} positive, "
            f"{entry['negative']:,} negative), {entry['maps']:,} maps, "
            f"{entry['min_words']}-{entry['max_words']} words"
        )
    return "\n".join(lines)
