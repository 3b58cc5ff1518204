"""The rationale importers (ERASER, HateXplain, Label Studio): hand-made sources in, the generic format
out, read back with `load_generic`; malformed sources refused with the file and the record named."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from humal_nb.core.errors import DataFormatError, ParameterError
from humal_nb.data import load_generic
from humal_nb.data.importers import import_rationales


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _by_id(frame):
    return {row.review_id: row for row in frame.itertuples()}


def _jsonl(path: Path, records: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


# ---------------------------------------------------------------------- ERASER
def _evidence(docid: str, start: int, end: int) -> dict:
    return {"docid": docid, "start_token": start, "end_token": end, "text": "", "start_sentence": -1,
            "end_sentence": -1}


def _eraser(tmp_path: Path) -> Path:
    src = tmp_path / "movies"
    (src / "docs").mkdir(parents=True)
    (src / "docs" / "pos1.txt").write_text("the movie was\ngreat fun .\n", encoding="utf-8")
    (src / "docs" / "neg1.txt").write_text("bad\tacting  here\n\nboring\n", encoding="utf-8")  # a tab inside a token
    (src / "docs" / "neg2.txt").write_text("dull plot\n", encoding="utf-8")
    _jsonl(src / "train.jsonl", [
        {"annotation_id": "pos1.txt", "classification": "POS", "docids": None, "query": "what is the sentiment?",
         "evidences": [[_evidence("pos1.txt", 3, 5)], [_evidence("pos1.txt", 0, 1)]]},
    ])
    _jsonl(src / "val.jsonl", [
        {"annotation_id": "neg1.txt", "classification": "NEG", "evidences": [[_evidence("neg1.txt", 0, 1)]]},
    ])
    _jsonl(src / "test.jsonl", [
        {"annotation_id": "a3", "classification": "NEG", "docids": ["neg2.txt"],
         "evidences": [[_evidence("neg2.txt", 1, 2)]]},
    ])
    return src


def test_eraser_spans_become_word_highlights(tmp_path):
    out = import_rationales("eraser", _eraser(tmp_path), tmp_path / "movies.jsonl", positive="POS")
    rows = _rows(out)
    assert [(r["text_id"], r["split"], r["label"]) for r in rows] == [
        ("pos1.txt", "train", 1), ("neg1.txt", "val", 0), ("neg2.txt", "test", 0)]
    frame = _by_id(load_generic(out))
    assert frame["pos1.txt"].words == ["the", "movie", "was", "great", "fun", "."]
    assert np.allclose(frame["pos1.txt"].human_attention, [1 / 3, 0, 0, 1 / 3, 1 / 3, 0])
    # the first ERASER token "bad\tacting" is two words of text.split(); both are highlighted
    assert frame["neg1.txt"].words == ["bad", "acting", "here", "boring"]
    assert np.allclose(frame["neg1.txt"].human_attention, [0.5, 0.5, 0, 0])
    assert frame["neg2.txt"].label == 0 and np.allclose(frame["neg2.txt"].human_attention, [0, 1])


def test_eraser_reads_docs_jsonl_as_eraser_does(tmp_path):
    src = _eraser(tmp_path)
    for path in (src / "docs").iterdir():
        path.unlink()
    (src / "docs").rmdir()
    docs = [{"docid": "pos1.txt", "document": "the movie was\ngreat fun ."},
            {"docid": "neg1.txt", "document": "bad acting here boring"},
            {"docid": "neg2.txt", "document": "dull plot"}]
    _jsonl(src / "docs.jsonl", docs)
    frame = _by_id(load_generic(import_rationales("eraser", src, tmp_path / "m.jsonl", positive="NEG")))
    assert frame["pos1.txt"].label == 0 and frame["neg1.txt"].label == 1
    assert np.allclose(frame["neg1.txt"].human_attention, [1, 0, 0, 0])


@pytest.mark.parametrize("positive", [None, "positive"])
def test_eraser_needs_a_known_positive_class(tmp_path, positive):
    with pytest.raises(ParameterError, match="'NEG', 'POS'"):
        import_rationales("eraser", _eraser(tmp_path), tmp_path / "m.jsonl", positive=positive)


@pytest.mark.parametrize(
    "record, problem",
    [
        ({"annotation_id": "pos1.txt", "classification": "POS", "evidences": [[_evidence("pos1.txt", 4, 9)]]},
         "evidence tokens \\[4, 9\\) are not a span of document 'pos1.txt' \\(6 tokens\\)"),
        ({"annotation_id": "pos1.txt", "classification": "POS", "evidences": [[_evidence("pos1.txt", -1, -1)]]},
         "an evidence has start_token -1, end_token -1: no token span"),
        ({"annotation_id": "pos1.txt", "evidences": []}, "classification is missing"),
        ({"annotation_id": "gone.txt", "classification": "POS", "evidences": []}, "document docs/gone.txt does not exist"),
    ],
)
def test_eraser_refuses_a_bad_annotation_naming_file_and_record(tmp_path, record, problem):
    src = _eraser(tmp_path)
    train = _rows(src / "train.jsonl")
    _jsonl(src / "train.jsonl", [train[0], record] if record["annotation_id"] != "pos1.txt" else [record])
    line = 2 if record["annotation_id"] != "pos1.txt" else 1
    with pytest.raises(DataFormatError, match=f"train.jsonl, line {line} \\(annotation_id '{record['annotation_id']}'\\)"
                       f": {problem}") as caught:
        import_rationales("eraser", src, tmp_path / "m.jsonl", positive="POS")
    assert not (tmp_path / "m.jsonl").exists()
    assert caught.value.args[0].rstrip().endswith(".")


def test_eraser_refuses_a_document_shared_by_annotations(tmp_path):
    src = _eraser(tmp_path)
    query = {"annotation_id": "q1", "classification": "POS", "docids": ["neg2.txt"], "evidences": []}
    _jsonl(src / "train.jsonl", [*_rows(src / "train.jsonl"), query])
    with pytest.raises(DataFormatError, match="test.jsonl, line 1 \\(annotation_id 'a3'\\): document 'neg2.txt' is "
                       "also the text of the annotation at train.jsonl line 2. This ERASER task pairs a query"):
        import_rationales("eraser", src, tmp_path / "m.jsonl", positive="POS")


def test_eraser_refuses_a_repeated_annotation_id(tmp_path):
    src = _eraser(tmp_path)
    _jsonl(src / "test.jsonl", _rows(src / "val.jsonl"))
    with pytest.raises(DataFormatError, match="test.jsonl, line 1 \\(annotation_id 'neg1.txt'\\): annotation_id "
                       "repeats the one at val.jsonl line 1"):
        import_rationales("eraser", src, tmp_path / "m.jsonl", positive="POS")


def test_eraser_refuses_broken_json_with_its_line(tmp_path):
    src = _eraser(tmp_path)
    with open(src / "val.jsonl", "a", encoding="utf-8") as handle:
        handle.write('{"annotation_id": "x", \n')
    with pytest.raises(DataFormatError, match="val.jsonl, line 2: not valid JSON"):
        import_rationales("eraser", src, tmp_path / "m.jsonl", positive="POS")


# ---------------------------------------------------------------------- HateXplain
def _post(tokens: list[str], labels: list[str], rationales: list[list[int]]) -> dict:
    annotators = [{"label": label, "annotator_id": 10 + i, "target": ["None"]} for i, label in enumerate(labels)]
    return {"annotators": annotators, "rationales": rationales, "post_tokens": tokens}


def _hatexplain(tmp_path: Path, **extra: dict) -> Path:
    posts = {
        # two of three annotators say offensive or hatespeech; the normal one disagrees and highlights nothing
        "p1_gab": _post(["you", "are", "a", "total", "idiot"], ["offensive", "normal", "hatespeech"],
                        [[0, 0, 0, 1, 1], [0, 0, 0, 0, 1]]),
        # HateXplain gives normal posts no rationales
        "p2_twitter": _post(["nice", "day", "today"], ["normal", "normal", "offensive"], []),
        # a tie is not a majority: normal. The empty token makes no word
        "p3_gab": _post(["", "go", "away", "now"], ["offensive", "normal", "hatespeech", "normal"],
                        [[1, 0, 1, 0], [0, 0, 0, 1]]),
    }
    for post_id, post in {**posts, **extra}.items():
        post["post_id"] = post_id
    path = tmp_path / "dataset.json"
    path.write_text(json.dumps({**posts, **extra}), encoding="utf-8")
    return path


def test_hatexplain_majority_label_and_each_annotators_rationale(tmp_path):
    out = import_rationales("hatexplain", _hatexplain(tmp_path), tmp_path / "hx.jsonl")
    rows = _rows(out)
    assert [(r["text_id"], r["annotator"], r["label"], r["annotator_label"], r["highlights"]) for r in rows] == [
        ("p1_gab", "10", 1, 1, [3, 4]), ("p1_gab", "11", 1, 0, []), ("p1_gab", "12", 1, 1, [4]),
        ("p2_twitter", "10", 0, 0, []), ("p2_twitter", "11", 0, 0, []), ("p2_twitter", "12", 0, 1, []),
        ("p3_gab", "10", 0, 1, [1]), ("p3_gab", "11", 0, 0, []), ("p3_gab", "12", 0, 1, [2]),
        ("p3_gab", "13", 0, 0, []),
    ]
    assert rows[-1]["text"] == " go away now"
    frame = load_generic(out, agreement="any")
    kept = _by_id(frame)
    assert np.allclose(kept["p1_gab"].human_attention, [0, 0, 0, 1 / 3, 2 / 3])  # the normal annotator's map is dropped
    assert kept["p1_gab"].maps == [[0, 0, 0, 1, 1], [0, 0, 0, 0, 1]]
    # p2 and p3 (label 0): only the normal annotators agree, and they highlight nothing
    assert set(kept) == {"p1_gab"} and frame.attrs["diagnostics"]["dropped_no_highlight"] == 2


def test_hatexplain_skips_repeated_and_empty_posts_with_a_warning(tmp_path):
    again = _post(["you", "are", "a", "total", "idiot"], ["normal"] * 3, [])
    empty = _post(["", " "], ["normal"] * 3, [])
    with pytest.warns(UserWarning) as caught:
        out = import_rationales("hatexplain", _hatexplain(tmp_path, p4=again, p5=empty), tmp_path / "hx.jsonl")
    messages = " | ".join(str(w.message) for w in caught)
    assert "'p4' (same text as 'p1_gab')" in messages and "no tokens: p5" in messages
    assert {r["text_id"] for r in _rows(out)} == {"p1_gab", "p2_twitter", "p3_gab"}


@pytest.mark.parametrize(
    "post, problem",
    [
        (_post(["a", "b"], ["offensive", "normal", "normal"], [[1, 0, 0]]), "rationale 1 has 3 values for 2 post_tokens"),
        (_post(["a", "b"], ["offensive", "offensive", "normal"], [[1, 0]]),
         "1 rationales for 2 annotators who did not say normal"),
        (_post(["a", "b"], ["offensive", "rude", "normal"], []), "annotator 2 has label 'rude'"),
        (_post(["a", "b"], ["offensive", "normal", "normal"], [[1, 2]]), "rationale 1 holds 2"),
    ],
)
def test_hatexplain_refuses_a_bad_post_naming_file_and_post(tmp_path, post, problem):
    with pytest.raises(DataFormatError, match=f"dataset.json, post 'bad': {problem}"):
        import_rationales("hatexplain", _hatexplain(tmp_path, bad=post), tmp_path / "hx.jsonl")


def test_hatexplain_takes_no_positive_class(tmp_path):
    with pytest.raises(ParameterError, match="label 1 is offensive or hatespeech"):
        import_rationales("hatexplain", _hatexplain(tmp_path), tmp_path / "hx.jsonl", positive="normal")


# ---------------------------------------------------------------------- Label Studio
def _span(text: str, start: int, end: int, chars: str | None = None) -> dict:
    value = {"start": start, "end": end, "text": chars if chars is not None else text[start:end], "labels": ["why"]}
    return {"type": "labels", "from_name": "why", "to_name": "text", "value": value}


def _choice(value: str) -> dict:
    return {"type": "choices", "from_name": "sentiment", "to_name": "text", "value": {"choices": [value]}}


FOOD = "The food was gr8 but service slow."
EMOJI = "I \U0001F600 love it"


def _labelstudio(tmp_path: Path, extra_annotation: dict | None = None) -> Path:
    tasks = [
        {"id": 7, "data": {"text": FOOD}, "annotations": [
            # the first annotator's spans cover part of "gr8" and "service slow"
            {"id": 70, "completed_by": 1, "result": [_span(FOOD, 13, 15), _span(FOOD, 21, 33), _choice("Positive")]},
            # spans that end where a word starts, or start where one ends, do not highlight it
            {"id": 71, "completed_by": 2, "result": [_choice("Positive"), _span(FOOD, 0, 4), _span(FOOD, 12, 16)]},
            # the third annotator disagrees about the label
            {"id": 72, "completed_by": {"id": 3, "email": "c@x.org"}, "result": [_span(FOOD, 29, 34),
                                                                                   _choice("Negative")]},
            {"id": 73, "completed_by": 4, "was_cancelled": True, "result": []},
        ]},
        # Label Studio's browser counts the emoji as two characters: "love" is [5, 9) in UTF-16 units
        {"id": 8, "data": {"text": EMOJI}, "annotations": [
            {"id": 80, "completed_by": 1, "result": [_span(EMOJI, 5, 9, "love"), _choice("Negative")]},
            *([extra_annotation] if extra_annotation else []),
        ]},
        {"id": 9, "data": {"text": "not annotated yet"}, "annotations": []},
    ]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(tasks), encoding="utf-8")
    return path


def test_labelstudio_spans_become_words_and_choices_labels(tmp_path):
    out = import_rationales("labelstudio", _labelstudio(tmp_path), tmp_path / "ls.jsonl", positive="Positive")
    rows = _rows(out)
    assert [(r["text_id"], r["annotator"], r["annotator_label"], r["highlights"]) for r in rows] == [
        ("7", "1", 1, [3, 5, 6]), ("7", "2", 1, [0, 3]), ("7", "c@x.org", 0, [6]), ("8", "1", 0, [2])]
    frame = _by_id(load_generic(out))
    assert frame["7"].label == 1 and frame["8"].label == 0
    assert frame["7"].words == ["The", "food", "was", "gr8", "but", "service", "slow."]
    assert np.allclose(frame["7"].human_attention, np.array([1, 0, 0, 2, 0, 1, 1]) / 5)
    assert np.allclose(frame["8"].human_attention, [0, 0, 1, 0])


def test_labelstudio_tie_between_annotators_is_dropped_by_load_generic(tmp_path):
    other = {"id": 81, "completed_by": 2, "result": [_span(EMOJI, 10, 12, "it"), _choice("Positive")]}
    out = import_rationales("labelstudio", _labelstudio(tmp_path, other), tmp_path / "ls.jsonl", positive="Positive")
    frame = load_generic(out)
    assert set(frame.review_id) == {"7"} and frame.attrs["diagnostics"]["dropped_no_majority_label"] == 1


@pytest.mark.parametrize(
    "annotation, problem",
    [
        ({"id": 81, "completed_by": 2, "result": [_span(EMOJI, 10, 12, "it")]},
         "0 choices results: the label comes from exactly one"),
        ({"id": 81, "completed_by": 2, "result": [_span(EMOJI, 2, 6, "love"), _choice("Positive")]},
         "the span \\[2, 6\\) does not hold its text 'love'"),
        ({"id": 81, "completed_by": 2, "result": [_span(EMOJI, 6, 60, ""), _choice("Positive")]},
         "the span \\[6, 60\\) does not hold its text ''"),
        ({"id": 81, "completed_by": 2, "result": [{"type": "labels", "value": {"start": 3}}, _choice("Positive")]},
         "a labels result has start 3, end None"),
    ],
)
def test_labelstudio_refuses_a_bad_annotation_naming_file_and_record(tmp_path, annotation, problem):
    with pytest.raises(DataFormatError, match=f"export.json, task 8 \\(item 2\\), annotation 81: {problem}"):
        import_rationales("labelstudio", _labelstudio(tmp_path, annotation), tmp_path / "ls.jsonl", positive="Positive")


def test_labelstudio_needs_a_known_positive_choice_and_text(tmp_path):
    with pytest.raises(ParameterError, match="'Negative', 'Positive'"):
        import_rationales("labelstudio", _labelstudio(tmp_path), tmp_path / "ls.jsonl", positive="positive")
    path = tmp_path / "export.json"
    path.write_text(json.dumps([{"id": 1, "data": {"review": "x"}, "annotations": []}]), encoding="utf-8")
    with pytest.raises(DataFormatError, match="export.json, task 1 \\(item 1\\): data.text is missing \\(data holds 'review'\\)"):
        import_rationales("labelstudio", path, tmp_path / "ls.jsonl", positive="Positive")


# ---------------------------------------------------------------------- the entry point and the command
def test_unknown_format_and_output_suffix_are_refused(tmp_path):
    with pytest.raises(ParameterError, match="not one of eraser, hatexplain, labelstudio"):
        import_rationales("squad", tmp_path, tmp_path / "x.jsonl")
    with pytest.raises(ParameterError, match="must end in .jsonl"):
        import_rationales("hatexplain", _hatexplain(tmp_path), tmp_path / "x.csv")


def test_import_command_writes_the_file(tmp_path, capsys):
    from humal_nb.cli.commands import build_parser
    from humal_nb.core.paths import display_path

    parser = build_parser()
    out = tmp_path / "ls.jsonl"
    args = parser.parse_args(["import", "labelstudio", str(_labelstudio(tmp_path)), "--out", str(out),
                              "--positive", "Positive"])
    assert args.func(args) == 0
    assert f"wrote {display_path(out)}: 4 rows, 2 texts" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        parser.parse_args(["import", "squad", "x", "--out", str(out)])
