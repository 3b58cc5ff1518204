"""humal_nb.data: Yelp-HAT and generic loaders, length groups, splits, data facts."""

from __future__ import annotations

import csv
import json
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from humal_nb import data
from humal_nb.core.errors import DataFormatError, DataNotFoundError, ParameterError
from humal_nb.data import (
    LENGTH_GROUPS,
    REVIEW_COLUMNS,
    NotEnoughDataError,
    data_info,
    format_data_info,
    length_group_of,
    load_generic,
    load_yelp_hat,
    make_split,
    minority_count,
)

# --------------------------------------------------------------------------- real data facts


def test_real_data_facts(yelp_dir):
    info = data_info(yelp_dir)
    assert info["maps"] == 6443
    assert info["reviews"] == 2155
    assert info["maps_per_review"] == {1: 67, 2: 239, 3: 1498, 4: 351}
    assert info["agreement"] == {"all": 1805, "majority": 2009, "any": 2112}
    assert info["labels"] == {"positive": 1093, "negative": 1062}
    assert {k: v["reviews"] for k, v in info["length_groups"].items()} == {
        "yelp50": 910,
        "yelp100": 1064,
        "yelp200": 181,
    }
    assert (info["length_groups"]["yelp100"]["min_words"], info["length_groups"]["yelp100"]["max_words"]) == (
        52,
        100,
    )
    assert info["maps_highlighting_nothing"] == 0
    assert 0.16 < info["highlight_share"]["mean"] < 0.18
    assert 0.12 < info["highlight_share"]["median"] < 0.14
    text = format_data_info(info)
    for fact in (
        "reviews:          2,155",
        "6,443",
        "1,805 / 2,009 / 2,112",
        "1,093 positive",
        "1,062 negative",
        "3 maps: 1,498",
        "1,064 reviews, 52-100 words",
    ):
        assert fact in text


@pytest.mark.parametrize("agreement,expected", [("all", 1805), ("majority", 2009), ("any", 2112)])
def test_agreement_counts(yelp_dir, agreement, expected):
    df = load_yelp_hat(yelp_dir, agreement=agreement)
    assert len(df) == expected
    diag = df.attrs["diagnostics"]
    assert (diag["maps"], diag["reviews"], diag["dropped_no_highlight"]) == (6443, 2155, 0)
    assert diag["dropped_agreement"] == 2155 - expected


def test_review_frame_invariants(yelp_df):
    df = yelp_df
    assert list(df.columns) == list(REVIEW_COLUMNS)
    assert df["review_id"].is_unique
    assert set(df["label"]) == {0, 1} and df["label"].dtype == np.int64
    assert df.index.equals(pd.RangeIndex(len(df)))
    for row in df.itertuples():
        n = len(row.words)
        assert row.words == row.text.split()
        assert len(row.maps) >= 1
        assert all(len(m) == n and set(m) <= {0, 1} for m in row.maps)
        assert len(row.human_attention) == n
        assert math.isclose(sum(row.human_attention), 1.0, abs_tol=1e-9)
        assert row.length_group == length_group_of(n)
        assert row.source.endswith(".csv") and row.review_id.startswith(Path(row.source).stem + ":")
    # majority: strictly more than half of each review's maps are kept
    assert df.attrs["diagnostics"]["maps_kept"] == sum(len(m) for m in df["maps"])


# The review at data rows 769-771 of ham_part1(50words).csv (label 0, answers no / idk / no),
# read by hand from its Answer.html_output: row 769 highlights "pricey" (word 6), "EXTREMELY
# limited." (33, 34) and "rather eat somewhere else." (46-49); row 771 "pricey", "EXTREMELY
# limited."; row 770 (idk) is not kept.
ROW_769 = [
    0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 1, 1, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 1, 1, 1, 1,
]  # fmt: skip
ROW_771 = [
    0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 1, 1, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
]  # fmt: skip
HAND_SUM = [
    0, 0, 0, 0, 0, 0, .2, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, .2, .2, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, .1, .1, .1, .1,
]  # fmt: skip
HAND_ID = "ham_part1(50words):769"


def _row(df: pd.DataFrame, review_id: str) -> pd.Series:
    rows = df[df["review_id"] == review_id]
    assert len(rows) == 1
    return rows.iloc[0]


def test_hand_worked_review(yelp_df):
    row = _row(yelp_df, HAND_ID)
    assert row["label"] == 0 and row["length_group"] == "yelp50"
    assert row["text"].startswith("I think it is a bit pricey") and len(row["words"]) == 50
    assert row["words"][6] == "pricey" and row["words"][33:35] == ["EXTREMELY", "limited."]
    assert row["maps"] == [ROW_769, ROW_771]
    assert np.allclose(row["human_attention"], HAND_SUM, atol=1e-12)


def test_hand_worked_review_first_and_agreement(yelp_dir):
    row = _row(load_yelp_hat(yelp_dir, combine_maps="first"), HAND_ID)
    assert row["maps"] == [ROW_769, ROW_771]
    assert np.allclose(row["human_attention"], [v / 7 for v in ROW_769], atol=1e-12)
    assert _row(load_yelp_hat(yelp_dir, agreement="any"), HAND_ID)["maps"] == [ROW_769, ROW_771]
    assert HAND_ID not in set(load_yelp_hat(yelp_dir, agreement="all")["review_id"])


def test_cache_returns_independent_copies(yelp_dir):
    first = load_yelp_hat(yelp_dir)
    first.at[0, "maps"][0][0] = 99
    first.at[0, "words"].append("extra")
    first.loc[0, "label"] = 7
    second = load_yelp_hat(yelp_dir)
    assert 99 not in second.at[0, "maps"][0]
    assert second.at[0, "words"] == second.at[0, "text"].split()
    assert second.loc[0, "label"] in (0, 1)


def test_bad_parameters(yelp_dir):
    with pytest.raises(ParameterError, match="agreement"):
        load_yelp_hat(yelp_dir, agreement="most")
    with pytest.raises(ParameterError, match="combine_maps"):
        load_yelp_hat(yelp_dir, combine_maps="mean")


def test_length_groups():
    assert list(LENGTH_GROUPS)[:3] == ["yelp50", "yelp100", "yelp200"]
    assert [length_group_of(n) for n in (1, 50, 51, 100, 101, 200, 201)] == [
        "yelp50",
        "yelp50",
        "yelp100",
        "yelp100",
        "yelp200",
        "yelp200",
        "yelp200+",
    ]
    with pytest.raises(ValueError):
        length_group_of(-1)


# --------------------------------------------------------------------------- Yelp-HAT bad input

WORDS = ["Great", "food", "&", "friendly", "staff."]


def _html(active: list[int], trailing: bool = True, words: list[str] = WORDS) -> str:
    spans = [
        f'<span class="active">{w.replace("&", "&amp;")}</span>' if a else f"<span>{w.replace('&', '&amp;')}</span>"
        for w, a in zip(words, active)
    ]
    return " ".join(spans + (["<span></span>"] if trailing else []))


def _yelp_rows() -> list[dict[str, str]]:
    text = " ".join(WORDS)
    return [
        {
            "Input.label": "1",
            "Input.text": text,
            "Answer.Q1Answer": "yes",
            "Answer.html_output": _html([1, 0, 0, 1, 0]),
        },
        {
            "Input.label": "1",
            "Input.text": text,
            "Answer.Q1Answer": "idk",
            "Answer.html_output": _html([0, 1, 0, 0, 0]),
        },
        {
            "Input.label": "0",
            "Input.text": "Cold\nsoup, rude waiter.",
            "Answer.Q1Answer": "no",
            "Answer.html_output": _html([1, 0, 1, 1], words=["Cold", "soup,", "rude", "waiter."]),
        },
    ]


def _write_yelp(directory: Path, rows: list[dict[str, str]], name: str = "ham_test.csv") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_small_yelp_file(tmp_path):
    rows = _yelp_rows()
    rows[1]["Answer.html_output"] = _html([0, 1, 0, 0, 0], trailing=False)  # spans == words is fine too
    _write_yelp(tmp_path, rows)
    df = load_yelp_hat(tmp_path, agreement="any")
    assert df["review_id"].tolist() == ["ham_test:1", "ham_test:3"]
    assert df["maps"].tolist() == [[[1, 0, 0, 1, 0]], [[1, 0, 1, 1]]]
    assert df["human_attention"].tolist()[0] == [0.5, 0, 0, 0.5, 0]
    assert df["words"].tolist()[0][2] == "&"
    assert df["source"].tolist() == ["ham_test.csv"] * 2
    assert len(load_yelp_hat(tmp_path, agreement="majority")) == 1  # 1 of 2 is not a majority


def test_yelp_cache_sees_file_changes(tmp_path):
    path = _write_yelp(tmp_path, _yelp_rows())
    assert len(load_yelp_hat(tmp_path, agreement="any")) == 2
    _write_yelp(tmp_path, _yelp_rows()[:1])
    os.utime(path, ns=(1, 1))
    assert len(load_yelp_hat(tmp_path, agreement="any")) == 1


def test_highlight_nothing_is_dropped_and_counted(tmp_path):
    rows = _yelp_rows()
    rows[2]["Answer.html_output"] = _html([0, 0, 0, 0], words=["Cold", "soup,", "rude", "waiter."])
    _write_yelp(tmp_path, rows)
    df = load_yelp_hat(tmp_path, agreement="any")
    assert df["review_id"].tolist() == ["ham_test:1"]
    assert df.attrs["diagnostics"]["dropped_no_highlight"] == 1


@pytest.mark.parametrize(
    "row,change,message",
    [
        (2, {"Answer.html_output": _html([1, 0, 0, 1])}, "4 word <span> elements (plus the trailing empty one)"),
        (2, {"Answer.html_output": _html([1, 0, 0, 1], trailing=False)}, "4 word <span> elements but the text"),
        (2, {"Answer.html_output": _html([1, 0, 0, 1, 0]) + " <span>x</span>"}, "7 word <span> elements"),
        (2, {"Answer.html_output": _html([1, 0, 0, 1, 0]).replace("food", "fool")}, "'fool' but word 2"),
        (2, {"Answer.html_output": ""}, "html_output is empty"),
        (2, {"Answer.html_output": "<span>Great</span> oops " + _html([0, 0, 0, 0])}, "outside any <span>"),
        (2, {"Input.text": "   "}, "Input.text is empty"),
        (1, {"Input.label": "2"}, "Input.label is '2', not 0 or 1"),
        (3, {"Input.label": "positive"}, "not 0 or 1"),
    ],
)
def test_yelp_bad_rows(tmp_path, row, change, message):
    rows = _yelp_rows()
    rows[row - 1].update(change)
    _write_yelp(tmp_path, rows)
    with pytest.raises(DataFormatError) as err:
        load_yelp_hat(tmp_path)
    text = str(err.value)
    assert "ham_test.csv" in text and f"data row {row}" in text and message in text


def test_yelp_error_names_line_after_multiline_cell(tmp_path):
    rows = _yelp_rows()
    rows.append(dict(rows[2], **{"Answer.html_output": "<span>Cold</span>"}))
    _write_yelp(tmp_path, rows)
    with pytest.raises(DataFormatError, match=r"ham_test\.csv, data row 4 \(line 6\)"):
        load_yelp_hat(tmp_path)  # row 3's text spans two lines


def test_yelp_inconsistent_label(tmp_path):
    rows = _yelp_rows()
    rows[1]["Input.label"] = "0"
    _write_yelp(tmp_path, rows)
    with pytest.raises(DataFormatError, match=r"ham_test\.csv, data row 1.*different Input.label"):
        load_yelp_hat(tmp_path)


def test_yelp_missing_columns(tmp_path):
    frame = pd.DataFrame(_yelp_rows()).drop(columns=["Answer.html_output", "Answer.Q1Answer"])
    frame.to_csv(tmp_path / "partial.csv", index=False)
    with pytest.raises(DataFormatError) as err:
        load_yelp_hat(tmp_path)
    assert "partial.csv" in str(err.value)
    assert "'Answer.Q1Answer', 'Answer.html_output'" in str(err.value)


def test_yelp_not_csv(tmp_path):
    (tmp_path / "notes.csv").write_text("just some notes\nnothing tabular here\n")
    with pytest.raises(DataFormatError, match=r"notes\.csv: missing column"):
        load_yelp_hat(tmp_path)
    (tmp_path / "notes.csv").write_bytes(b"\xff\xfe\x00\x81binary")
    with pytest.raises(DataFormatError, match=r"notes\.csv: not UTF-8"):
        load_yelp_hat(tmp_path)


def test_yelp_no_csv_files(tmp_path):
    (tmp_path / "README.md").write_text("no data here")
    with pytest.raises(DataNotFoundError, match=str(tmp_path)):
        load_yelp_hat(tmp_path)
    with pytest.raises(DataNotFoundError):
        load_yelp_hat(tmp_path / "absent")


# --------------------------------------------------------------------------- generic format

SIXTY = " ".join(f"w{i}" for i in range(60))


def _generic_records() -> list[dict]:
    return [
        {"text_id": 1, "text": "good food and nice staff", "label": 1, "highlights": [0, 4], "annotator_label": 1},
        {"text_id": 1, "text": "good food and nice staff", "label": 1, "highlights": [0, 3], "annotator_label": 1},
        {"text_id": 1, "text": "good food and nice staff", "label": 1, "highlights": [2], "annotator_label": 0},
        {"text_id": "b", "text": "awful", "label": 0, "highlights": [0], "annotator_label": 0},
        {"text_id": "c", "text": SIXTY, "label": 0, "highlights": [5, 6], "annotator_label": 0},
        {"text_id": "c", "text": SIXTY, "label": 0, "highlights": [7], "annotator_label": 0},
    ]


def _binary(record: dict) -> dict:
    n = len(record["text"].split())
    return dict(record, highlights=[int(i in record["highlights"]) for i in range(n)])


def _write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def _write_csv(path: Path, records: list[dict]) -> Path:
    def cell(value):
        return value if isinstance(value, str) or value is None else json.dumps(value)

    frame = pd.DataFrame([dict(r, highlights=cell(r["highlights"])) for r in records])
    frame.to_csv(path, index=False)
    return path


def test_generic_round_trips_both_encodings(tmp_path):
    records = _generic_records()
    frames = [
        load_generic(_write_jsonl(tmp_path / "idx.jsonl", records)),
        load_generic(_write_csv(tmp_path / "idx.csv", records)),
        load_generic(_write_jsonl(tmp_path / "bin.jsonl", [_binary(r) for r in records])),
        load_generic(_write_csv(tmp_path / "bin.csv", [_binary(r) for r in records])),
    ]
    first = frames[0]
    assert list(first.columns) == list(REVIEW_COLUMNS)
    assert first["review_id"].tolist() == ["1", "b", "c"]
    assert first["label"].tolist() == [1, 0, 0]
    assert first.loc[0, "maps"] == [[1, 0, 0, 0, 1], [1, 0, 0, 1, 0]]  # the annotator_label 0 map is not kept
    assert first.loc[0, "human_attention"] == [0.5, 0, 0, 0.25, 0.25]
    assert first.loc[2, "length_group"] == "yelp100"
    assert first["source"].tolist() == ["idx.jsonl"] * 3
    for frame, name in zip(frames[1:], ["idx.csv", "bin.jsonl", "bin.csv"]):
        assert frame["source"].tolist() == [name] * 3
        pd.testing.assert_frame_equal(frame.drop(columns="source"), first.drop(columns="source"))
    first_only = load_generic(tmp_path / "idx.jsonl", combine_maps="first")
    assert first_only.loc[0, "human_attention"] == [0.5, 0, 0, 0, 0.5]


def test_generic_min_highlight(tmp_path):
    path = _write_jsonl(tmp_path / "g.jsonl", _generic_records())
    df = load_generic(path, min_highlight=0.02)
    # text c: [5, 6] is 2/60 = 3.3 % (kept), [7] is 1/60 = 1.7 % (dropped)
    assert len(df.loc[2, "maps"]) == 1 and df.loc[2, "maps"][0][5:8] == [1, 1, 0]
    assert df.attrs["diagnostics"]["maps_dropped_min_highlight"] == 1
    df = load_generic(path, min_highlight=0.5)  # every map too sparse -> texts without attention dropped
    assert df["review_id"].tolist() == ["b"]
    assert df.attrs["diagnostics"]["dropped_no_highlight"] == 2


def test_generic_label_by_self_and_majority(tmp_path):
    base = {"text": "so so place", "highlights": [1]}
    records = [
        dict(base, text_id="x", self_label=1, annotator_label=0),
        dict(base, text_id="x", self_label=1, annotator_label=0),
        dict(base, text_id="x", self_label=1, annotator_label=1, highlights=[2]),
        dict(base, text_id="y", text="fine fine place", self_label=0, annotator_label=0),
    ]
    path = _write_jsonl(tmp_path / "p.jsonl", records)
    by_majority = load_generic(path)  # no `label` column: majority of annotator_label
    assert by_majority["label"].tolist() == [0, 0]
    assert by_majority.loc[0, "maps"] == [[0, 1, 0], [0, 1, 0]]
    by_self = load_generic(path, label_by="self", agreement="any")
    assert by_self["label"].tolist() == [1, 0]
    assert by_self.loc[0, "maps"] == [[0, 0, 1]]
    assert load_generic(path, label_by="self")["review_id"].tolist() == ["y"]  # 1 of 3 agree with self

    no_self = _write_jsonl(tmp_path / "noself.jsonl", [{"text_id": 1, "text": "a b", "label": 1, "highlights": [0]}])
    with pytest.raises(DataFormatError, match=r"noself\.jsonl: missing column\(s\) 'self_label'"):
        load_generic(no_self, label_by="self")


GOOD = {"text_id": 1, "text": "one two three four", "label": 1, "highlights": [0, 2]}
BAD_INDICES = [
    ({"highlights": [0, 4]}, "word index 4 is out of range"),
    ({"highlights": [0, 1, 0, 0, 1, 0]}, "repeats word index 0"),
    ({"highlights": [0.5]}, "not an integer"),
    ({"highlights": [0, float("nan")]}, "holds nan, not an integer"),
    ({"highlights": [0, float("inf")]}, "holds inf, not an integer"),
    ({"highlights": "[0,"}, "not a JSON list"),
    ({"highlights": None}, "highlights is missing"),
    ({"label": 2}, "label is '2', not 0 or 1"),
    ({"annotator_label": "yes"}, "annotator_label is 'yes', not 0 or 1"),
    ({"text": "  "}, "text is empty"),
    ({"text": "one two three five"}, "text_id '1' has a different text than at"),
    ({"label": 0}, "text_id '1' has label 0 here but 1 at"),
    ({"text_id": 2}, "text_id '2' has the same text as text_id '1'"),
]
BAD_BINARY = [
    ({"highlights": [0, 1, 0, 0, 1, 0]}, "0/1 highlights list has 6 values but the text has 4 words"),
    ({"highlights": [0, 2, 0, 0]}, "0/1 highlights list holds 2: every value must be 0 or 1"),
]


def _bad_file(tmp_path: Path, records: list[dict], fmt: str) -> tuple[Path, str]:
    if fmt == "jsonl":
        return _write_jsonl(tmp_path / "bad.jsonl", records), "bad.jsonl, line 3"
    return _write_csv(tmp_path / "bad.csv", records), "bad.csv, data row 3 (line 4)"


@pytest.mark.parametrize("bad,message", BAD_INDICES)
@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_generic_bad_rows_indices(tmp_path, bad, message, fmt):
    path, where = _bad_file(tmp_path, [GOOD, dict(GOOD, highlights=[1, 3]), dict(GOOD, **bad)], fmt)
    with pytest.raises(DataFormatError) as err:
        load_generic(path)
    assert where in str(err.value) and message in str(err.value)


@pytest.mark.parametrize("bad,message", BAD_BINARY)
@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_generic_bad_rows_binary(tmp_path, bad, message, fmt):
    records = [_binary(GOOD), _binary(dict(GOOD, highlights=[1])), dict(GOOD, **bad)]
    path, where = _bad_file(tmp_path, records, fmt)
    with pytest.raises(DataFormatError) as err:
        load_generic(path)
    assert where in str(err.value) and message in str(err.value) and "read as 0/1 lists" in str(err.value)


def test_generic_highlight_format(tmp_path):
    # a one-word text is ambiguous ([0]: index 0, or a 0/1 list saying "not highlighted");
    # the file's other rows decide, or highlight_format does
    records = [dict(GOOD, highlights=[1, 3]), {"text_id": 2, "text": "fine", "label": 1, "highlights": [0]}]
    path = _write_jsonl(tmp_path / "amb.jsonl", records)
    df = load_generic(path)
    assert df.attrs["diagnostics"]["highlight_format"] == "indices"
    assert df.loc[1, "maps"] == [[1]]
    with pytest.raises(DataFormatError, match="has 2 values but the text has 4 words"):
        load_generic(path, highlight_format="binary")
    binary = _write_jsonl(tmp_path / "bin.jsonl", [_binary(GOOD), dict(records[1], highlights=[1])])
    assert load_generic(binary).attrs["diagnostics"]["highlight_format"] == "binary"


def test_generic_missing_columns_and_bad_files(tmp_path):
    path = _write_jsonl(tmp_path / "m.jsonl", [{"text_id": 1, "text": "a b"}])
    with pytest.raises(DataFormatError, match=r"m\.jsonl: missing column\(s\) 'highlights', 'label'"):
        load_generic(path)
    path = tmp_path / "broken.jsonl"
    path.write_text(json.dumps(GOOD) + "\n{not json\n")
    with pytest.raises(DataFormatError, match=r"broken\.jsonl, line 2: not valid JSON"):
        load_generic(path)
    with pytest.raises(DataFormatError, match="unknown extension"):
        load_generic(_write_jsonl(tmp_path / "g.txt", [GOOD]))
    with pytest.raises(DataNotFoundError):
        load_generic(tmp_path / "absent.jsonl")
    with pytest.raises(ParameterError):
        load_generic(_write_jsonl(tmp_path / "ok.jsonl", [GOOD]), min_highlight=1.5)


def test_generic_csv_reads_quoted_cells(tmp_path):
    path = tmp_path / "q.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text_id", "text", "label", "highlights"])
        writer.writerow(["7", 'He said, "fine"\nthen left', "0", "[0, 3]"])
    row = load_generic(path).iloc[0]
    assert row["words"] == ["He", "said,", '"fine"', "then", "left"]
    assert row["maps"] == [[1, 0, 0, 1, 0]]


# --------------------------------------------------------------------------- make_split


def test_minority_count():
    assert minority_count(250, 0.05) == 13  # 12.5 rounds half up
    assert minority_count(250, 0.01) == 3  # 2.5 -> 3
    assert minority_count(1000, 0.01) == 10
    assert minority_count(20, 0.01) == 1  # at least one minority review
    assert minority_count(2, 0.9) == 1  # at least one majority review


def test_make_split_cell(yelp_df):
    train, test = make_split(yelp_df, 250, 0.05)
    assert len(train) == 250 and train["label"].sum() in (12, 13)
    assert test["label"].value_counts().to_dict() == {0: 100, 1: 100}
    assert not set(train["review_id"]) & set(test["review_id"])
    assert train["review_id"].is_unique and test["review_id"].is_unique
    assert list(train.columns) == list(yelp_df.columns) == list(test.columns)
    assert train.index.equals(pd.RangeIndex(250)) and test.index.equals(pd.RangeIndex(200))
    labels = train["label"].tolist()
    assert labels != sorted(labels) and labels != sorted(labels, reverse=True)  # shuffled

    again_train, again_test = make_split(yelp_df, 250, 0.05)
    pd.testing.assert_frame_equal(train, again_train)
    pd.testing.assert_frame_equal(test, again_test)

    other_train, other_test = make_split(yelp_df, 250, 0.05, bootstrap=1)
    assert set(other_train["review_id"]) != set(train["review_id"])
    pd.testing.assert_frame_equal(test, other_test)
    for kwargs in ({"seed": 5}, {"seed": 3, "bootstrap": 7}, {"data_size": 500, "imbalance_ratio": 0.5}):
        args = {"data_size": 250, "imbalance_ratio": 0.05, **kwargs}
        pd.testing.assert_frame_equal(make_split(yelp_df, **args)[1], test)
    assert set(make_split(yelp_df, 250, 0.05, test_seed=1)[1]["review_id"]) != set(test["review_id"])


def test_make_split_minority_label_and_length_group(yelp_df):
    train, test = make_split(yelp_df, 500, 0.1, minority_label=0, length_group="yelp100", n_test=50)
    assert (train["label"] == 0).sum() == 50 and (train["label"] == 1).sum() == 450
    assert set(train["length_group"]) == set(test["length_group"]) == {"yelp100"}
    assert len(test) == 50 and test["label"].sum() == 25


def test_make_split_not_enough_data(yelp_df):
    with pytest.raises(NotEnoughDataError) as err:
        make_split(yelp_df, 2000, 0.5, length_group="yelp200")
    text = str(err.value)
    assert "data_size=2000" in text and "imbalance_ratio=0.5" in text and "yelp200" in text
    assert "test set" in text and "100 positive" in text
    available = err.value.available
    assert err.value.needed == {0: 100, 1: 100}
    assert available[0] + available[1] == int((yelp_df["length_group"] == "yelp200").sum())
    assert f"{available[1]} positive" in text

    with pytest.raises(NotEnoughDataError) as err:
        make_split(yelp_df, 2000, 0.01)
    text = str(err.value)
    assert err.value.needed == {0: 1980, 1: 20}
    assert "training subset" in text and "1980 negative" in text and "20 positive" in text
    n_neg = int((yelp_df["label"] == 0).sum()) - 100
    assert err.value.available[0] == n_neg and f"{n_neg} negative" in text


@pytest.mark.parametrize(
    "kwargs",
    [
        {"imbalance_ratio": 0},
        {"imbalance_ratio": 1.5},
        {"imbalance_ratio": 1.0},
        {"data_size": 0},
        {"data_size": 1},
        {"data_size": 250.0},
        {"minority_label": 2},
        {"n_test": 199},
        {"n_test": 0},
        {"bootstrap": -1},
        {"length_group": "yelp75"},
    ],
)
def test_make_split_bad_parameters(yelp_df, kwargs):
    args = {"data_size": 250, "imbalance_ratio": 0.05, **kwargs}
    with pytest.raises(ValueError):
        make_split(yelp_df, **args)


def test_not_enough_data_error_is_reexported():
    from humal_nb.core.errors import NotEnoughDataError as Base

    assert data.NotEnoughDataError is Base
