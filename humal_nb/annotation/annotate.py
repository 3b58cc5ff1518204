"""Collect human attention in a notebook: an annotation widget that writes the generic format.

`annotation_widget(texts_file, out_file, annotator)` (what `notebooks/annotate.ipynb` calls)
shows one text at a time. The annotator clicks or drags over words to highlight them (click
again to clear), answers whether the text matches its label (`yes` / `no` / `idk`, as
Yelp-HAT's question), or picks the label when the texts have none, then goes on (next,
previous, skip; keyboard shortcuts in `SHORTCUTS`).

- **Texts** (`load_texts`): CSV or JSONL with `text_id`, `text` and optional `label` (0/1;
  every text has one, or none has).
- **Saving** (`AnnotationStore`): every answer, and every change of an answered text's
  highlights, is written at once, atomically (`runs.atomic_write_text`), as one row per
  (text, annotator) of the generic format that `humal_nb.data.load_generic` and
  `RunConfig(data_file=...)` read: `text_id`, `text`, `label` (when the texts have labels),
  `highlights` (word indices over `text.split()`), `annotator_label` (the label the answer
  implies: `yes` the text's label, `no` the other one, `idk` the other one too, since
  Yelp-HAT's rule counts `idk` as not matching; the picked label when there is none),
  `answer` (as given), `annotator` and `saved_at`. A crash loses at most the text on screen.
- **Resuming** (`AnnotationSession`): reopening with the same annotator id starts at the
  first text that annotator has not answered. Other annotators' rows in the same file are
  kept; saves are serialized with a lock file beside it.

The word area is an `anywidget` (`WordPicker`: synced `words` and `selected`, the text set
with `textContent`, never as HTML); the rest is ipywidgets (`AnnotationWidget`). Both render
in JupyterLab and in Voila (`voila notebooks/annotate.ipynb`).

The word picker's JavaScript and CSS are files of their own (`humal_nb/static/word_picker.js`,
`word_picker.css`), shipped as package data. (Over 500 lines: the file store, its lock and the
widget's Python side are one module, as they share the record format.)
"""

from __future__ import annotations

import csv
import fcntl
import io
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import anywidget
import ipywidgets as widgets
import pandas as pd
import traitlets

from humal_nb.config import runs
from humal_nb.core.errors import DataFormatError, ParameterError
from humal_nb.core.markup import escape
from humal_nb.core.paths import relative_base
from humal_nb.data.common import is_missing, parse_label
from humal_nb.data.generic import read_generic_records, read_text_records

#: answers to "does the text match its label?" (Yelp-HAT's question)
ANSWERS = ("yes", "no", "idk")
LABEL_NAMES = ("negative", "positive")
DEFAULT_OUT_FILE = "outputs/annotate/annotations.jsonl"
DEFAULT_SAMPLE_FILE = "outputs/annotate/texts.jsonl"
#: the saved row's columns, in this order (`label` and `answer` only where they apply)
ROW_COLUMNS = ("text_id", "text", "label", "highlights", "annotator_label", "answer", "annotator", "saved_at")
#: key -> action; answer keys apply to the texts with labels ("y", "n", "i") or without ("0", "1")
SHORTCUTS = {
    "y": "yes", "n": "no", "i": "idk", "0": "0", "1": "1",
    "Enter": "next", "ArrowRight": "next", "ArrowLeft": "previous", "s": "skip", "c": "clear",
}


# ---------------------------------------------------------------------- texts
@dataclass(frozen=True)
class TextItem:
    """One text to annotate; `label` is None when the annotator picks it."""

    text_id: str
    text: str
    label: int | None = None

    @property
    def words(self) -> list[str]:
        return self.text.split()


def local_path(path: str | Path) -> Path:
    """A path given relative to the working directory (where it, or its folder, exists), else to
    the checkout's root in a checkout (Voila and JupyterLab run a notebook in its own folder,
    `notebooks/`), else to the folder the command started in (`paths.relative_base`)."""
    path = Path(path).expanduser()
    if path.is_absolute() or path.exists() or (path.parent != Path(".") and path.parent.is_dir()):
        return path.resolve()
    return (relative_base() / path).resolve()


def load_texts(path: str | Path) -> list[TextItem]:
    """The texts of a CSV or JSONL file with `text_id`, `text` and optional `label` (0/1), in file order.

    Rows repeating a text_id with the same text and label are read once (a generic data file
    works too). Raises DataNotFoundError or DataFormatError naming the file and row.
    """
    path = Path(path)
    records, kind = read_text_records(path, "text_id, text and optional label (0/1)")
    items: dict[str, TextItem] = {}
    ids_of_text: dict[str, str] = {}
    for row, record in records:
        item = _text_item(path, kind, row, record)
        _check_text_item(path, kind, row, item, items, ids_of_text)
        items.setdefault(item.text_id, item)
    texts = list(items.values())
    if len({item.label is None for item in texts}) > 1:
        raise DataFormatError(f"{path.name}: some texts have a label and some have none. Give every text a "
                              "label (the annotator answers yes/no/idk) or none (the annotator picks it).")
    return texts


def _text_item(path: Path, kind: str, row: int, record: dict[str, Any]) -> TextItem:
    where = f"{path.name}, {kind} {row}"
    if is_missing(record.get("text_id")):
        raise DataFormatError(f"{where}: text_id is missing. Give every text an id.")
    text = record.get("text")
    if not isinstance(text, str) or not text.split():
        raise DataFormatError(f"{where}: text is empty or missing. Fix or remove that row.")
    label = None
    if "label" in record and not is_missing(record["label"]):
        label = parse_label(record["label"])
        if label is None:
            raise DataFormatError(f"{where}: label is {str(record['label'])!r}, not 0 or 1. Fix that row.")
    return TextItem(str(record["text_id"]).strip(), text, label)


def _check_text_item(
    path: Path, kind: str, row: int, item: TextItem, items: dict[str, TextItem], ids_of_text: dict[str, str]
) -> None:
    where = f"{path.name}, {kind} {row}"
    seen = items.get(item.text_id)
    if seen is not None and seen != item:
        raise DataFormatError(f"{where}: text_id {item.text_id!r} appears before with another text or label. "
                              "Give one text_id to one text.")
    other = ids_of_text.setdefault(item.text, item.text_id)
    if other != item.text_id:
        raise DataFormatError(f"{where}: text_id {item.text_id!r} has the same text as text_id {other!r}. "
                              "Give one text one text_id (it could land in both training and test).")


def sample_texts(
    out_file: str | Path = DEFAULT_SAMPLE_FILE, n: int = 40, data_dir: str | Path | None = None, seed: int = 0,
    max_words: int = 80,
) -> Path:
    """A texts file of `n` Yelp-HAT reviews (half of each label, at most `max_words` words), to try the
    widget on; written once (an existing file is kept, so annotations stay valid)."""
    out = local_path(out_file)
    if out.is_file():
        return out
    if n < 2:
        raise ParameterError(f"n={n!r} must be at least 2 (one text per label).")
    from humal_nb.data import load_yelp_hat

    reviews = load_yelp_hat(data_dir)
    reviews = reviews[reviews["words"].map(len) <= max_words]
    parts = [reviews[reviews["label"] == label] for label in (0, 1)]
    picked = [part.sample(min(count, len(part)), random_state=seed) for part, count in zip(parts, (n // 2, n - n // 2))]
    rows = pd.concat(picked).sample(frac=1.0, random_state=seed)
    lines = [json.dumps({"text_id": r.review_id, "text": r.text, "label": int(r.label)}, ensure_ascii=False)
             for r in rows.itertuples()]
    runs.atomic_write_text(out, "\n".join(lines) + "\n")
    return out


# ---------------------------------------------------------------------- rows
def implied_label(item: TextItem, answer: str) -> int:
    """The label an answer stands for: `yes` the text's label, `no` and `idk` the other one
    (Yelp-HAT's rule: `idk` never matches); without a label, the picked label ("0" or "1")."""
    if item.label is None:
        if answer not in ("0", "1"):
            raise ParameterError(f"answer {answer!r}: text {item.text_id!r} has no label, so pick '0' or '1'.")
        return int(answer)
    if answer not in ANSWERS:
        raise ParameterError(f"answer {answer!r} is not one of {', '.join(ANSWERS)}.")
    return item.label if answer == "yes" else 1 - item.label


def annotation_row(item: TextItem, annotator: str, highlights: Sequence[int], answer: str) -> dict[str, Any]:
    """One row of the generic format: this annotator's map and answer for this text."""
    n_words = len(item.words)
    indices = sorted({int(i) for i in highlights})
    if any(not 0 <= i < n_words for i in indices):
        raise ParameterError(f"highlights {indices} reach beyond the {n_words} words of text {item.text_id!r}.")
    row: dict[str, Any] = {"text_id": item.text_id, "text": item.text}
    if item.label is not None:
        row["label"] = item.label
    row["highlights"] = indices
    row["annotator_label"] = implied_label(item, answer)
    if item.label is not None:
        row["answer"] = answer
    row["annotator"] = annotator
    row["saved_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    return row


def row_answer(row: dict[str, Any]) -> str | None:
    """The answer a saved row holds (`answer`, else the picked `annotator_label`)."""
    if not is_missing(row.get("answer")):
        return str(row["answer"]).strip()
    label = parse_label(row.get("annotator_label"))
    return None if label is None else str(label)


def row_highlights(row: dict[str, Any]) -> list[int]:
    """A saved row's word indices (a list, or a JSON list in CSV)."""
    value = row.get("highlights")
    if isinstance(value, str):
        value = json.loads(value) if value.strip() else []
    return sorted(int(i) for i in value or [])


# ---------------------------------------------------------------------- the file
@dataclass
class AnnotationStore:
    """The annotations file (.jsonl or .csv): read whole, one row replaced, written atomically."""

    path: Path

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        if self.path.suffix.lower() not in (".jsonl", ".csv"):
            raise ParameterError(f"out_file {str(self.path)!r} must end in .jsonl or .csv (the generic format).")

    def read(self) -> list[dict[str, Any]]:
        """Every row of the file (none when it does not exist yet)."""
        if not self.path.is_file() or not self.path.read_text(encoding="utf-8").strip():
            return []
        records, kind, _columns = read_generic_records(self.path)
        for row, record in records:
            if is_missing(record.get("text_id")) or is_missing(record.get("annotator")):
                raise DataFormatError(f"{self.path.name}, {kind} {row}: no text_id or annotator, so it is not an "
                                      "annotations file of this widget. Choose another out_file.")
        return [record for _, record in records]

    def rows_of(self, annotator: str) -> dict[str, dict[str, Any]]:
        """{text_id: row} of one annotator."""
        return {str(r["text_id"]).strip(): r for r in self.read() if str(r["annotator"]).strip() == annotator}

    def save(self, row: dict[str, Any]) -> None:
        """Put `row` in the file, replacing that annotator's row of that text; other rows are kept."""
        with self._locked():
            rows = self.read()
            key = (str(row["text_id"]), str(row["annotator"]))
            spot = next((k for k, r in enumerate(rows) if (str(r["text_id"]).strip(),
                                                             str(r["annotator"]).strip()) == key), None)
            if spot is None:
                rows.append(row)
            else:
                rows[spot] = row
            runs.atomic_write_text(self.path, self._format(rows))

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(f".{self.path.name}.lock"), "w") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            yield

    def _format(self, rows: list[dict[str, Any]]) -> str:
        if self.path.suffix.lower() == ".jsonl":
            return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        columns = [c for c in ROW_COLUMNS if any(c in r for r in rows)]
        for r in rows:
            columns += [c for c in r if c not in columns]
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for r in rows:
            writer.writerow({k: json.dumps(v) if isinstance(v, list) else v for k, v in r.items()})
        return buffer.getvalue()


# ---------------------------------------------------------------------- one annotator's session
@dataclass
class AnnotationSession:
    """One annotator's progress through the texts; `saved` holds their rows by text_id."""

    texts: list[TextItem]
    store: AnnotationStore
    annotator: str
    saved: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def open(cls, texts: list[TextItem], store: AnnotationStore, annotator: str) -> AnnotationSession:
        """The session of `annotator` (stripped, non-empty), with what the file already holds of theirs."""
        annotator = str(annotator).strip()
        if not annotator:
            raise ParameterError("the annotator id is empty: type an id (e.g. your initials).")
        saved = store.rows_of(annotator)
        for item in texts:
            row = saved.get(item.text_id)
            if row is not None and row.get("text") != item.text:
                raise DataFormatError(
                    f"{store.path.name}: annotator {annotator!r} has a row for text_id {item.text_id!r} with another "
                    "text than the texts file. Use another out_file, or give changed texts new text_ids."
                )
        return cls(texts, store, annotator, saved)

    @property
    def labeled(self) -> bool:
        return bool(self.texts) and self.texts[0].label is not None

    def is_done(self, index: int) -> bool:
        return self.texts[index].text_id in self.saved

    @property
    def n_done(self) -> int:
        return sum(self.is_done(i) for i in range(len(self.texts)))

    def next_todo(self, after: int = -1) -> int | None:
        """The first text not done after `after`, wrapping around (`after` itself last); None when all are done."""
        n = len(self.texts)
        for step in range(1, n + 1):
            index = (after + step) % n
            if not self.is_done(index):
                return index
        return None

    def save(self, index: int, highlights: Sequence[int], answer: str) -> dict[str, Any]:
        """Write this annotator's row for text `index` now."""
        item = self.texts[index]
        row = annotation_row(item, self.annotator, highlights, answer)
        self.store.save(row)
        self.saved[item.text_id] = row
        return row

    def answer_of(self, index: int) -> str | None:
        row = self.saved.get(self.texts[index].text_id)
        return None if row is None else row_answer(row)

    def highlights_of(self, index: int) -> list[int]:
        row = self.saved.get(self.texts[index].text_id)
        return [] if row is None else row_highlights(row)


# ---------------------------------------------------------------------- the word area (anywidget)
#: the word picker's front end, shipped as package data (humal_nb/static/word_picker.js, .css)
_ESM = (resources.files("humal_nb.static") / "word_picker.js").read_text(encoding="utf-8")

_CSS = (resources.files("humal_nb.static") / "word_picker.css").read_text(encoding="utf-8")


class WordPicker(anywidget.AnyWidget):
    """Words to highlight by clicking or dragging; `selected` holds the highlighted word indices.

    A key of `shortcuts` pressed while the words have focus sends `{"action": name}` to Python
    (`on_msg`); `focus()` gives them focus again (after a button click, so keys keep working).
    """

    _esm = _ESM
    _css = _CSS
    words = traitlets.List(traitlets.Unicode()).tag(sync=True)
    selected = traitlets.List(traitlets.Int()).tag(sync=True)
    shortcuts = traitlets.Dict().tag(sync=True)
    disabled = traitlets.Bool(False).tag(sync=True)

    @traitlets.validate("selected")
    def _valid_selected(self, proposal: Any) -> list[int]:
        return sorted({int(i) for i in proposal["value"] if 0 <= int(i) < len(self.words)})

    def focus(self) -> None:
        """Move the keyboard focus to the words (every view of this widget)."""
        self.send({"focus": True})


# ---------------------------------------------------------------------- the whole widget (ipywidgets)
class AnnotationWidget(widgets.VBox):
    """The annotation widget (see `annotation_widget`); drive it from Python with `start`,
    `answer`, `next`, `previous`, `skip` and `picker.selected`. `index` is the text on screen
    (`len(texts)` once every text is done)."""

    def __init__(
        self, texts: list[TextItem], store: AnnotationStore, annotator: str = "",
        label_names: Sequence[str] = LABEL_NAMES,
    ) -> None:
        if not texts:
            raise DataFormatError("no texts to annotate.")
        self.texts, self.store, self.label_names = texts, store, _check_label_names(label_names)
        self.session: AnnotationSession | None = None
        self.index = 0
        self._updating = False
        self._build()
        if str(annotator).strip():
            self.start(annotator)

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        labeled = self.texts[0].label is not None
        self.annotator_box = widgets.Text(description="annotator", placeholder="your annotator id",
                                          continuous_update=False, style={"description_width": "initial"})
        self.start_button = widgets.Button(description="Start", button_style="primary")
        self.start_message = widgets.HTML()
        self.start_box = widgets.VBox([widgets.HBox([self.annotator_box, self.start_button]), self.start_message])
        self.status = widgets.HTML()
        self.question = widgets.HTML()
        self.picker = WordPicker(shortcuts=_shortcuts(labeled))
        options = [(a, a) for a in ANSWERS] if labeled else [(name, str(k)) for k, name in enumerate(self.label_names)]
        self.answers = widgets.ToggleButtons(options=options, value=None, style={"button_width": "110px"})
        self.buttons = {name: widgets.Button(description=text, tooltip=f"key: {keys}")
                        for name, text, keys in (("previous", "◀ Previous", "←"), ("skip", "Skip", "s"),
                                                 ("next", "Next ▶", "Enter or →"), ("clear", "Clear highlights", "c"))}
        self.message = widgets.HTML()
        self.help = widgets.HTML(_help_html(labeled, self.label_names))
        self.main_box = widgets.VBox([self.status, self.picker, self.question, self.answers,
                                      widgets.HBox(list(self.buttons.values())), self.message, self.help])
        self.start_box.layout.display, self.main_box.layout.display = "", "none"
        super().__init__([self.start_box, self.main_box])
        self._style_classes()
        self._wire()

    def _wire(self) -> None:
        self.start_button.on_click(lambda _b: self._start_from_box())
        self.annotator_box.observe(lambda _change: self._start_from_box(), names="value")  # Enter or leaving it
        self.answers.observe(self._on_answer, names="value")
        self.picker.observe(self._on_selected, names="selected")
        self.picker.on_msg(self._on_key)
        for name, button in self.buttons.items():
            button.on_click(lambda _b, name=name: self._act(name))

    def _style_classes(self) -> None:
        self.add_class("humal-annotate")
        for name, part in (("start", self.start_box), ("status", self.status), ("question", self.question),
                           ("answers", self.answers), ("message", self.message), ("main", self.main_box)):
            part.add_class(f"humal-annotate-{name}")
        for name, button in self.buttons.items():
            button.add_class(f"humal-annotate-{name}")

    # ------------------------------------------------------------------ actions
    def start(self, annotator: str) -> None:
        """Open `annotator`'s session and show the first text they have not done."""
        self.session = AnnotationSession.open(self.texts, self.store, annotator)
        self.start_box.layout.display, self.main_box.layout.display = "none", ""
        todo = self.session.next_todo()
        self.show(len(self.texts) if todo is None else todo)

    def answer(self, value: str) -> None:
        """Answer the text on screen (saved at once, with its highlights)."""
        self.answers.value = value

    def next(self) -> None:
        """The next text not done (after an answer); the end once every text is done."""
        if self._at_end():
            return
        if self.session.answer_of(self.index) is None:
            self._say("Answer the question first (or skip this text).", error=True)
            return
        self._go_on()

    def skip(self) -> None:
        """The next text not done, leaving this one as it is (unanswered ones come back later)."""
        if not self._at_end():
            self._go_on()

    def previous(self) -> None:
        """The text before this one, to look at or change."""
        if self.session is not None and self.index > 0:
            self.show(self.index - 1)

    def clear(self) -> None:
        """Clear the highlights of the text on screen."""
        self.picker.selected = []

    def show(self, index: int) -> None:
        """Show text `index` with what this annotator saved for it (`len(texts)`: the end)."""
        self.index = index
        self._updating = True
        try:
            with self.picker.hold_sync():
                at_end = index >= len(self.texts)
                self.picker.words = [] if at_end else self.texts[index].words
                self.picker.selected = [] if at_end else self.session.highlights_of(index)
                self.picker.disabled = at_end
            self.answers.value = None if at_end else self.session.answer_of(index)
        finally:
            self._updating = False
        self._refresh(message="" if not at_end else self._end_message())
        self.picker.focus()

    def _act(self, name: str) -> None:
        if self.session is not None:
            {"next": self.next, "skip": self.skip, "previous": self.previous, "clear": self.clear}[name]()
            self.picker.focus()

    def _go_on(self) -> None:
        todo = self.session.next_todo(self.index)
        self.show(len(self.texts) if todo is None else todo)

    def _at_end(self) -> bool:
        return self.session is None or self.index >= len(self.texts)

    # ------------------------------------------------------------------ events
    def _start_from_box(self) -> None:
        if self.session is not None:  # the id is asked once
            return
        try:
            self.start(self.annotator_box.value)
        except (ParameterError, DataFormatError) as err:
            self.start_message.value = _message_html(str(err), error=True)

    def _on_answer(self, change: dict) -> None:
        if self._updating or change["new"] is None or self._at_end():
            return
        self._save(f"Saved: {change['new'] if self.session.labeled else self._label_name(change['new'])}.")

    def _on_selected(self, change: dict) -> None:
        if self._updating or self._at_end() or self.session.answer_of(self.index) is None:
            return
        self._save("Saved the new highlights.")

    def _on_key(self, _widget: Any, content: Any, _buffers: Any) -> None:
        action = content.get("action") if isinstance(content, dict) else None
        if action in ("next", "skip", "previous", "clear"):
            self._act(action)
        elif action is not None and not self._at_end() and action in dict(self.answers.options).values():
            self.answer(action)

    def _save(self, what: str) -> None:
        try:
            self.session.save(self.index, self.picker.selected, self.answers.value)
        except (OSError, ValueError) as err:
            self._refresh(message=f"Not saved: {err}", error=True)
            return
        note = "" if self.picker.selected else " No word is highlighted: such texts are dropped for training."
        self._refresh(message=what + note)

    # ------------------------------------------------------------------ text
    def _refresh(self, message: str = "", error: bool = False) -> None:
        n, session = len(self.texts), self.session
        if self.index < n:
            item = self.texts[self.index]
            state = "done" if session.is_done(self.index) else "not done yet"
            where = f"text {self.index + 1} of {n} (id {escape(item.text_id)}, {state})"
        else:
            where = "all texts seen"
        self.status.value = (f'<div style="font-size:14px;"><b>{session.n_done} of {n} done</b> · {where} · '
                             f"annotator <b>{escape(session.annotator)}</b></div>")
        self.question.value = self._question_html()
        at_end = self.index >= n
        self.answers.layout.display = self.picker.layout.display = "none" if at_end else ""
        for name in ("next", "skip", "clear"):
            self.buttons[name].disabled = at_end
        self.buttons["previous"].disabled = self.index == 0
        self._say(message, error)

    def _question_html(self) -> str:
        if self.index >= len(self.texts):
            return ""
        label = self.texts[self.index].label
        if label is None:
            return "<p>Which label fits this text?</p>"
        return f"<p>Does this text match its label, <b>{escape(self._label_name(label))}</b>?</p>"

    def _label_name(self, label: Any) -> str:
        return self.label_names[int(label)]

    def _end_message(self) -> str:
        return (f"All {len(self.texts)} texts are done; every answer is in {self.store.path}. "
                "Previous goes back to change one.")

    def _say(self, message: str, error: bool = False) -> None:
        self.message.value = _message_html(message, error)


def _message_html(message: str, error: bool = False) -> str:
    color = "#c92a2a" if error else "#2b8a3e"
    return f'<p style="color:{color};font-size:13px;">{escape(message)}</p>' if message else ""


def _check_label_names(names: Sequence[str]) -> tuple[str, str]:
    names = tuple(str(n).strip() for n in names)
    if len(names) != 2 or not all(names):
        raise ParameterError(f"label_names={list(names)!r} must be two names, of label 0 and label 1.")
    return names


def _shortcuts(labeled: bool) -> dict[str, str]:
    answer_keys = ("y", "n", "i") if labeled else ("0", "1")
    return {k: v for k, v in SHORTCUTS.items() if len(k) > 1 or k in answer_keys or v in ("skip", "clear")}


def _help_html(labeled: bool, label_names: Sequence[str]) -> str:
    answers = ("<kbd>y</kbd> yes, <kbd>n</kbd> no, <kbd>i</kbd> idk" if labeled
               else f"<kbd>0</kbd> {escape(label_names[0])}, <kbd>1</kbd> {escape(label_names[1])}")
    return ('<p style="font-size:12px;color:#555;">Click or drag over words to highlight the ones that made '
            "you decide; click again to clear. Keys (click the text first): "
            f"{answers}, <kbd>Enter</kbd>/<kbd>→</kbd> next, <kbd>←</kbd> previous, <kbd>s</kbd> skip, "
            "<kbd>c</kbd> clear. Every answer is saved at once.</p>")


def annotation_widget(
    texts_file: str | Path = "", out_file: str | Path = DEFAULT_OUT_FILE, annotator: str = "",
    label_names: Sequence[str] = LABEL_NAMES, n_sample: int = 40,
) -> AnnotationWidget:
    """The annotation widget for `texts_file` (CSV/JSONL: `text_id`, `text`, optional `label`),
    saving to `out_file` (.jsonl or .csv, the generic format). An empty `texts_file` means a
    sample of `n_sample` Yelp-HAT reviews (`sample_texts`). With an empty `annotator` a text box
    asks for the id first. Relative paths: see `local_path`."""
    texts_path = sample_texts(n=n_sample) if not str(texts_file).strip() else local_path(texts_file)
    store = AnnotationStore(local_path(out_file))
    return AnnotationWidget(load_texts(texts_path), store, annotator, label_names)


__all__ = [
    "ANSWERS",
    "SHORTCUTS",
    "AnnotationSession",
    "AnnotationStore",
    "AnnotationWidget",
    "TextItem",
    "WordPicker",
    "annotation_row",
    "annotation_widget",
    "implied_label",
    "load_texts",
    "local_path",
    "sample_texts",
]
