"""The annotation widget without a browser: texts in, rows of the generic format out, saved at
once and atomically, resumed at the first text not done; the widget object driven from Python."""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from humal_nb.annotation import annotate
from humal_nb.annotation.annotate import AnnotationStore, AnnotationWidget, TextItem
from humal_nb.core.errors import DataFormatError, DataNotFoundError, ParameterError
from humal_nb.data import load_generic

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "annotate.ipynb"


def write_texts(path: Path, n: int = 6, labeled: bool = True) -> list[dict]:
    """`n` distinct texts, labels alternating 0, 1, ...; one holds a script tag as a word."""
    rows = []
    for i in range(n):
        row = {"text_id": f"t{i}", "text": f"text {i} says <script>x</script> and the food was {'great' if i % 2 else 'cold'}"}
        if labeled:
            row["label"] = i % 2
        rows.append(row)
    if path.suffix == ".csv":
        pd.DataFrame(rows).to_csv(path, index=False)
    else:
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return rows


def saved_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture()
def texts_file(tmp_path) -> Path:
    path = tmp_path / "texts.jsonl"
    write_texts(path)
    return path


def widget_for(texts_file: Path, out: Path, annotator: str = "alice", **kwargs) -> AnnotationWidget:
    return annotate.annotation_widget(texts_file, out, annotator, **kwargs)


# ---------------------------------------------------------------------- texts
def test_load_texts_jsonl_and_csv(tmp_path):
    rows = write_texts(tmp_path / "texts.csv")
    write_texts(tmp_path / "texts.jsonl")
    for name in ("texts.csv", "texts.jsonl"):
        texts = annotate.load_texts(tmp_path / name)
        assert [t.text_id for t in texts] == [r["text_id"] for r in rows]
        assert [t.label for t in texts] == [0, 1, 0, 1, 0, 1]
        assert texts[0].words == rows[0]["text"].split()
    write_texts(tmp_path / "plain.csv", labeled=False)
    assert {t.label for t in annotate.load_texts(tmp_path / "plain.csv")} == {None}


def test_a_generic_data_file_reads_each_text_once(tmp_path):
    path = tmp_path / "generic.jsonl"
    line = {"text_id": "a", "text": "good food", "label": 1, "highlights": [0]}
    path.write_text(json.dumps(line) + "\n" + json.dumps({**line, "highlights": [1]}) + "\n")
    assert annotate.load_texts(path) == [TextItem("a", "good food", 1)]


@pytest.mark.parametrize("lines, expected", [
    ([{"text_id": "a", "text": "x", "label": 1}, {"text_id": "b", "text": "y"}], "some texts have a label"),
    ([{"text_id": "a", "text": "x", "label": 2}], "not 0 or 1"),
    ([{"text_id": "a", "text": "  "}], "text is empty"),
    ([{"text_id": "a", "text": "x"}, {"text_id": "a", "text": "z"}], "another text or label"),
    ([{"text_id": "a", "text": "x"}, {"text_id": "b", "text": "x"}], "same text as text_id 'a'"),
    ([{"id": "a", "text": "x"}], "no column text_id"),
])
def test_bad_texts_are_refused_naming_file_and_row(tmp_path, lines, expected):
    path = tmp_path / "bad.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    with pytest.raises(DataFormatError, match=expected) as err:
        annotate.load_texts(path)
    assert "bad.jsonl" in str(err.value)


def test_missing_texts_file_and_bad_parameters(tmp_path, texts_file):
    with pytest.raises(DataNotFoundError, match="does not exist"):
        annotate.load_texts(tmp_path / "nope.jsonl")
    with pytest.raises(ParameterError, match=r"\.jsonl or \.csv"):
        AnnotationStore(tmp_path / "out.txt")
    with pytest.raises(ParameterError, match="two names"):
        widget_for(texts_file, tmp_path / "out.jsonl", label_names=["only one"])


# ---------------------------------------------------------------------- rows
def test_answers_imply_annotator_labels_as_yelp_hat_counts_them():
    positive, unlabeled = TextItem("p", "nice place", 1), TextItem("u", "nice place")
    assert [annotate.implied_label(positive, a) for a in ("yes", "no", "idk")] == [1, 0, 0]
    assert [annotate.implied_label(unlabeled, a) for a in ("0", "1")] == [0, 1]
    with pytest.raises(ParameterError):
        annotate.implied_label(unlabeled, "yes")
    with pytest.raises(ParameterError):
        annotate.implied_label(positive, "maybe")
    row = annotate.annotation_row(positive, "alice", [1, 0, 1], "no")
    assert {k: row[k] for k in ("text_id", "label", "highlights", "annotator_label", "answer", "annotator")} == {
        "text_id": "p", "label": 1, "highlights": [0, 1], "annotator_label": 0, "answer": "no", "annotator": "alice"}
    assert "label" not in annotate.annotation_row(unlabeled, "a", [], "1")
    with pytest.raises(ParameterError, match="beyond the 2 words"):
        annotate.annotation_row(positive, "alice", [2], "yes")


# ---------------------------------------------------------------------- the file
def test_store_replaces_one_row_and_keeps_other_annotators(tmp_path):
    store, item = AnnotationStore(tmp_path / "deep" / "out.jsonl"), TextItem("a", "one two three", 1)
    store.save(annotate.annotation_row(item, "bob", [2], "yes"))
    store.save(annotate.annotation_row(item, "alice", [0], "yes"))
    store.save(annotate.annotation_row(item, "alice", [0, 1], "idk"))
    rows = saved_rows(store.path)
    assert [(r["annotator"], r["highlights"], r["answer"]) for r in rows] == [("bob", [2], "yes"),
                                                                              ("alice", [0, 1], "idk")]
    assert store.rows_of("alice")["a"]["highlights"] == [0, 1]
    assert sorted(p.name for p in store.path.parent.iterdir()) == [".out.jsonl.lock", "out.jsonl"]  # no temp file


def test_csv_store_round_trips(tmp_path):
    store, item = AnnotationStore(tmp_path / "out.csv"), TextItem("a", 'say "hi", then, go', 0)
    store.save(annotate.annotation_row(item, "alice", [0, 3], "yes"))
    row = store.rows_of("alice")["a"]
    assert row["text"] == item.text and annotate.row_highlights(row) == [0, 3] and annotate.row_answer(row) == "yes"


def test_a_failed_write_keeps_the_old_file_and_says_not_saved(tmp_path, texts_file, monkeypatch):
    out = tmp_path / "out.jsonl"
    widget = widget_for(texts_file, out)
    widget.picker.selected = [1]
    widget.answer("yes")
    before = out.read_text()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    widget.picker.selected = [1, 2]
    assert out.read_text() == before and "Not saved: disk full" in widget.message.value
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_a_foreign_out_file_is_refused(tmp_path, texts_file):
    out = tmp_path / "out.jsonl"
    out.write_text(json.dumps({"text_id": "t0", "text": "x"}) + "\n")
    with pytest.raises(DataFormatError, match="not an annotations file"):
        widget_for(texts_file, out)


# ---------------------------------------------------------------------- the widget, from Python
def test_the_annotator_id_is_asked_once_before_the_first_text(tmp_path, texts_file):
    widget = widget_for(texts_file, tmp_path / "out.jsonl", annotator="")
    assert widget.session is None and widget.main_box.layout.display == "none"
    widget.next()  # nothing happens before a session starts
    widget.annotator_box.value = "   "  # as Enter in the box sends it
    assert "annotator id is empty" in widget.start_message.value and widget.session is None
    widget.annotator_box.value = " alice "
    assert widget.session.annotator == "alice" and widget.start_box.layout.display == "none"
    widget.start_button.click()  # asked once: a second start changes nothing
    assert widget.session.annotator == "alice" and widget.index == 0
    assert widget.picker.words == annotate.load_texts(texts_file)[0].words
    assert "0 of 6 done" in widget.status.value


def test_every_answer_is_saved_at_once_and_the_session_resumes(tmp_path, texts_file):
    out = tmp_path / "out.jsonl"
    widget = widget_for(texts_file, out)
    widget.picker.selected = [5, 0, 99]  # out of range dropped, sorted
    assert widget.picker.selected == [0, 5] and not out.exists()  # highlights alone are not an answer
    widget.next()
    assert widget.index == 0 and "Answer the question first" in widget.message.value
    widget.answer("yes")
    assert [r["highlights"] for r in saved_rows(out)] == [[0, 5]]
    widget.picker.selected = [0]  # changing an answered text's highlights saves again
    assert [r["highlights"] for r in saved_rows(out)] == [[0]]
    widget.next()
    assert widget.index == 1 and "1 of 6 done" in widget.status.value
    widget.skip()
    widget.picker.selected = [2]
    widget.answer("no")
    widget.next()
    widget.answer("idk")
    assert widget.index == 3 and widget.session.n_done == 3
    widget.previous()
    assert widget.index == 2 and widget.picker.selected == [2] and widget.answers.value == "no"

    again = widget_for(texts_file, out)  # reopened: the first text not done
    assert again.index == 1 and "3 of 6 done" in again.status.value and again.picker.selected == []
    assert widget_for(texts_file, out, annotator="bob").index == 0  # another annotator starts afresh
    for _ in range(2):
        again.picker.selected = [3]
        again.answer("yes")
        again.next()
    assert again.index == 5  # 1, then past texts 2 and 3 (done) to 4, then 5
    again.answer("yes")
    again.next()
    assert again.index == 6 and "All 6 texts are done" in again.message.value
    assert again.buttons["next"].disabled and again.picker.disabled and not again.buttons["previous"].disabled
    again.next()
    again.previous()
    assert again.index == 5 and again.answers.value == "yes"
    assert widget_for(texts_file, out).index == 6
    assert sorted(r["text_id"] for r in saved_rows(out)) == [f"t{i}" for i in range(6)]


def test_keys_from_the_word_area_act_like_the_buttons(tmp_path, texts_file):
    widget = widget_for(texts_file, tmp_path / "out.jsonl")
    assert widget.picker.shortcuts["y"] == "yes" and "0" not in widget.picker.shortcuts
    widget.picker.selected = [1, 2]
    widget._on_key(widget.picker, {"action": "clear"}, [])
    assert widget.picker.selected == []
    widget._on_key(widget.picker, {"action": "1"}, [])  # a picked label means nothing for labeled texts
    widget._on_key(widget.picker, {"action": "y"}, [])  # keys arrive as actions, never as raw keys
    assert widget.answers.value is None
    widget._on_key(widget.picker, {"action": "yes"}, [])
    widget._on_key(widget.picker, {"action": "next"}, [])
    assert widget.index == 1
    widget._on_key(widget.picker, "junk", [])
    widget._on_key(widget.picker, {"action": "previous"}, [])
    assert widget.index == 0


def test_unlabeled_texts_ask_for_the_label(tmp_path):
    texts = tmp_path / "plain.csv"
    write_texts(texts, n=3, labeled=False)
    out = tmp_path / "out.csv"
    widget = widget_for(texts, out, label_names=["bad", "good"])
    assert "Which label fits" in widget.question.value
    assert [o[0] for o in widget.answers.options] == ["bad", "good"] and widget.picker.shortcuts["1"] == "1"
    widget.picker.selected = [0]
    widget._on_key(widget.picker, {"action": "1"}, [])
    assert "Saved: good" in widget.message.value
    row = AnnotationStore(out).rows_of("alice")["t0"]
    assert row["annotator_label"] == "1" and "label" not in row and "answer" not in row


def test_a_changed_text_under_a_saved_id_is_refused(tmp_path, texts_file):
    out = tmp_path / "out.jsonl"
    widget = widget_for(texts_file, out)
    widget.answer("yes")
    lines = texts_file.read_text().replace("text 0 says", "text zero says")
    texts_file.write_text(lines)
    with pytest.raises(DataFormatError, match="another text than the texts file"):
        widget_for(texts_file, out)


def test_text_is_escaped_in_the_widget_html(tmp_path):
    texts = tmp_path / "texts.jsonl"
    texts.write_text(json.dumps({"text_id": "<b>id</b>", "text": "plain words", "label": 1}) + "\n")
    widget = widget_for(texts, tmp_path / "out.jsonl", annotator="<i>me</i>", label_names=["no", "<u>yes</u>"])
    for html_text in (widget.status.value, widget.question.value, widget.help.value):
        assert "<b>id</b>" not in html_text and "<i>me</i>" not in html_text and "<u>" not in html_text
    assert "&lt;b&gt;id&lt;/b&gt;" in widget.status.value


# ---------------------------------------------------------------------- the saved file trains
@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_the_saved_file_is_the_generic_format(tmp_path, texts_file, suffix):
    out = tmp_path / f"out{suffix}"
    answers = {"alice": ["yes", "no", "yes", "idk", "yes", "yes"], "bob": ["yes", "yes", "no", "yes", "idk", "yes"]}
    for annotator, given in answers.items():
        widget = widget_for(texts_file, out, annotator=annotator)
        for k, answer in enumerate(given):
            widget.picker.selected = [k, k + 1]
            widget.answer(answer)
            widget.next()
    frame = load_generic(out, agreement="any").set_index("review_id")
    assert frame.attrs["diagnostics"]["maps"] == 12
    # kept maps: only the annotators whose answer matches ("no" and "idk" never do)
    assert [len(frame.loc[f"t{k}", "maps"]) for k in range(6)] == [2, 1, 1, 1, 1, 2]
    assert list(frame.loc["t0", "maps"][0][:3]) == [1, 1, 0]
    assert frame.loc["t5", "label"] == 1
    assert len(load_generic(out, agreement="all")) == 2  # t0 and t5: both said yes


# ---------------------------------------------------------------------- the notebook
def test_the_notebook_has_one_parameters_cell_no_outputs_and_only_calls_the_package():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert sum("parameters" in c.metadata.get("tags", []) for c in nb.cells) == 1
    assert all(not c.outputs and c.execution_count is None for c in code)
    params = next(c for c in code if "parameters" in c.metadata.get("tags", []))
    for name in ("texts_file", "out_file", "annotator"):
        assert f"{name} = " in params.source
    body = "\n".join(c.source for c in code if c is not params)
    assert "from humal_nb.annotation import annotate" in body and "annotate.annotation_widget(" in body
    assert not [line for line in body.splitlines() if line.strip().startswith(("def ", "class ", "for ", "import "))]


@pytest.mark.slow
def test_the_notebook_runs_headless_with_papermill(tmp_path, texts_file):
    from humal_nb.experiments.notebooks import execute_notebook

    out = tmp_path / "annotations.jsonl"
    executed = execute_notebook(NOTEBOOK, tmp_path / "annotate.ipynb",
                                {"texts_file": str(texts_file), "out_file": str(out), "annotator": "alice"})
    outputs = [o for c in nbformat.read(executed, as_version=4).cells for o in c.get("outputs", [])]
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)
    assert not [o for o in outputs if o.get("output_type") == "error" or o.get("name") == "stderr"]


@pytest.mark.slow
def test_the_yelp_hat_sample_is_balanced_and_written_once(tmp_path, yelp_dir):
    path = annotate.sample_texts(tmp_path / "texts.jsonl", n=10, data_dir=yelp_dir)
    texts = annotate.load_texts(path)
    assert len(texts) == 10 and sum(t.label for t in texts) == 5 and all(len(t.words) <= 80 for t in texts)
    stamp = path.stat().st_mtime_ns
    assert annotate.sample_texts(path, n=20, data_dir=yelp_dir) == path and path.stat().st_mtime_ns == stamp


def test_next_todo_wraps_around_and_the_picker_keeps_valid_indices(tmp_path, texts_file):
    store = AnnotationStore(tmp_path / "out.jsonl")
    session = annotate.AnnotationSession.open(annotate.load_texts(texts_file), store, "alice")
    for index in (0, 3, 4, 5):
        session.save(index, [0], "yes")
    assert session.next_todo() == 1 and session.next_todo(3) == 1 and session.next_todo(1) == 2
    session.save(1, [], "yes")
    session.save(2, [], "yes")
    assert session.next_todo() is None and session.n_done == 6
    picker = annotate.WordPicker(words=["a", "b", "c"])
    picker.selected = [2, -1, 2, 7, 0]
    assert picker.selected == [0, 2]
