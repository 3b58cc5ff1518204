"""The field's rationale formats converted to humal_nb's generic format (`humal-nb import`).

`import_rationales(fmt, src, out, positive)` writes a JSONL file that
`humal_nb.data.load_generic` (and `RunConfig(data_file=...)`) reads: one row per (text,
annotator) with `text_id`, `text`, `label` and/or `annotator_label` (0/1), `highlights`
(word indices over `text.split()`), `annotator`, plus the source's own extras (ERASER's
`split`). One function per format:

- `import_eraser(src, out, positive)`: an ERASER data folder (`docs/` with one file per
  document, or `docs.jsonl`; `train.jsonl`, `val.jsonl`, `test.jsonl`). The text is the
  document's tokens joined by spaces; the highlights are the union of the annotation's
  evidence token spans [start_token, end_token). ERASER names no annotators: one row per
  annotation (`annotator` "eraser"), labelled by `classification == positive`. Only tasks
  whose annotations each have a document of their own (Movies) can be classified as text
  alone; a document shared by several annotations (BoolQ, FEVER, MultiRC: a query per
  document) or an annotation over several documents (e-SNLI) is refused.
- `import_hatexplain(src, out)`: HateXplain's `dataset.json`. Label 1 when a strict majority
  of the post's annotators said `offensive` or `hatespeech`; a tie is not a majority, so it
  is 0 (normal). Each rationale belongs to the annotators who did not say `normal`, in their
  order; each annotator gets a row with their own `annotator_label` (1 unless `normal`),
  normal annotators with no highlight. A post with no rationales at all (HateXplain gives
  none for most normal posts) gives every annotator a row with no highlight. Posts with no
  tokens are skipped with a warning.
- `import_labelstudio(src, out, positive)`: a Label Studio JSON export. One row per
  completed annotation (cancelled ones are skipped), `completed_by` as annotator; its
  `choices` result is `annotator_label` (1 when it is `positive`); the text's label is left to
  `load_generic`: the strict majority of its annotators (ties dropped there). A word of
  `data.text.split()` is highlighted when a `labels` span overlaps any of its characters.
  Offsets counted in UTF-16 units (Label Studio's browser side) are recognized through
  `value.text`.

Tokens holding whitespace inside (a tab, a no-break space) give several words, each
highlighted with its token; empty tokens give none. A text that appears again under another
id is skipped with a warning (`load_generic` refuses one text under two ids: it could land
in both training and test). Malformed input raises `DataFormatError` naming the file, the
record and what to do.

(Over 500 lines: three formats, each with its own reading and its own errors, share the
word mapping and the writing; one module keeps `humal-nb import` in one place.)
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from humal_nb.config import runs
from humal_nb.core.errors import DataFormatError, DataNotFoundError, ParameterError

OUT_SUFFIXES = (".jsonl", ".ndjson", ".json")
ERASER_SPLITS = ("train", "val", "test")
HATEXPLAIN_LABELS = {"normal": 0, "offensive": 1, "hatespeech": 1}
ROW_KEYS = ("text_id", "text", "label", "annotator_label", "annotator", "highlights", "split")


# ---------------------------------------------------------------------- the one entry point
def import_rationales(fmt: str, src: str | Path, out: str | Path, positive: str | None = None) -> Path:
    """Convert `src` in format `fmt` (`eraser`, `hatexplain`, `labelstudio`) to the generic JSONL `out`.

    `positive`: the class (ERASER `classification`) or choice (Label Studio) that is label 1;
    HateXplain's label 1 is fixed (offensive or hatespeech). Returns the path written.
    """
    if fmt not in FORMATS:
        raise ParameterError(f"format {fmt!r} is not one of {', '.join(FORMATS)}.")
    if fmt == "hatexplain":
        if positive is not None:
            raise ParameterError("hatexplain takes no positive class: label 1 is offensive or hatespeech.")
        return import_hatexplain(src, out)
    return FORMATS[fmt](src, out, positive)


def _check_out(out: str | Path) -> Path:
    out = Path(out)
    if out.suffix.lower() not in OUT_SUFFIXES:
        raise ParameterError(f"out file {str(out)!r} must end in .jsonl: the generic format is one JSON object a line.")
    return out


def _write_rows(rows: list[dict[str, Any]], out: Path, source: Path) -> Path:
    if not rows:
        raise DataFormatError(f"{source.name}: no texts to import. Check that it is the right file.")
    lines = [json.dumps({k: row[k] for k in ROW_KEYS if k in row}, ensure_ascii=False) for row in rows]
    runs.atomic_write_text(out, "\n".join(lines) + "\n")
    return out


def _fail(file: str, record: str, problem: str, todo: str = "Fix or remove that record.") -> DataFormatError:
    return DataFormatError(f"{file}, {record}: {problem}. {todo}")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as err:
        raise DataFormatError(f"{path.name}: not UTF-8 text. Save the file as UTF-8.") from err
    except json.JSONDecodeError as err:
        raise DataFormatError(
            f"{path.name}: not valid JSON ({err.msg} at line {err.lineno}, column {err.colno}). "
            "Export the file again; it must be one JSON document."
        ) from err


def _read_jsonl(path: Path) -> Iterable[tuple[int, Any]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise DataFormatError(f"{path.name}: not UTF-8 text. Save the file as UTF-8.") from err
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as err:
            raise _fail(path.name, f"line {number}", f"not valid JSON ({err.msg} at column {err.colno})",
                        "Write one JSON object per line.") from err


def _token_words(tokens: list[str]) -> tuple[str, list[range]]:
    """The text (tokens joined by spaces) and the indices in `text.split()` of each token's words."""
    spans, start = [], 0
    for token in tokens:
        n = len(token.split())
        spans.append(range(start, start + n))
        start += n
    return " ".join(tokens), spans


def _words_of_tokens(spans: list[range], flagged: Iterable[int]) -> list[int]:
    return sorted({w for i in flagged for w in spans[i]})


def _check_positive(positive: str | None, seen: Iterable[str], what: str, src: Path) -> None:
    seen = set(seen)
    classes = ", ".join(repr(c) for c in sorted(seen)) or "none"
    if positive is None:
        raise ParameterError(f"{src.name}: name the {what} that is label 1 with positive (--positive); "
                             f"the {what}s seen are {classes}.")
    if positive not in seen:
        raise ParameterError(f"positive {positive!r} is not a {what} of {src.name}; the {what}s seen are {classes}.")


def _drop_repeated_texts(rows: list[dict[str, Any]], source: Path) -> list[dict[str, Any]]:
    """Rows of a text already seen under another id are skipped, with one warning naming them."""
    first_id: dict[str, str] = {}
    skipped: dict[str, str] = {}
    kept = []
    for row in rows:
        other = first_id.setdefault(row["text"], row["text_id"])
        if other != row["text_id"]:
            skipped[row["text_id"]] = other
            continue
        kept.append(row)
    if skipped:
        pairs = ", ".join(f"{a!r} (same text as {b!r})" for a, b in list(skipped.items())[:5])
        warnings.warn(f"{source.name}: skipped {len(skipped)} text(s) that repeat an earlier text: {pairs}"
                      f"{' ...' if len(skipped) > 5 else ''}. One text needs one text_id.", stacklevel=3)
    return kept


# ---------------------------------------------------------------------- ERASER
def import_eraser(src: str | Path, out: str | Path, positive: str | None = None) -> Path:
    """An ERASER data folder as generic JSONL: one row per annotation of train/val/test."""
    out, src = _check_out(out), Path(src)
    annotations = _eraser_annotations(src)
    _check_positive(positive, (a["classification"] for a in annotations), "class", src)
    docs = _EraserDocs(src)
    rows = [_eraser_row(a, docs, positive) for a in annotations]
    return _write_rows(_drop_repeated_texts(rows, src), out, src)


def _eraser_annotations(src: Path) -> list[dict[str, Any]]:
    """Every annotation of the split files present, each checked and with its document id."""
    if not src.is_dir():
        raise DataNotFoundError(f"ERASER folder {str(src)!r} does not exist. Pass the folder that holds docs/ "
                                "and train.jsonl, val.jsonl, test.jsonl.")
    files = [src / f"{split}.jsonl" for split in ERASER_SPLITS if (src / f"{split}.jsonl").is_file()]
    if not files:
        raise DataNotFoundError(f"ERASER folder {str(src)!r} has none of train.jsonl, val.jsonl, test.jsonl.")
    annotations: list[dict[str, Any]] = []
    place_of_id: dict[str, str] = {}
    place_of_doc: dict[str, str] = {}
    for path in files:
        for number, record in _read_jsonl(path):
            annotation = _eraser_annotation(path, number, record)
            place = f"{path.name} line {number}"
            for key, seen, what in ((annotation["annotation_id"], place_of_id, "annotation_id"),
                                    (annotation["docid"], place_of_doc, "document")):
                if seen.setdefault(key, place) != place:
                    raise _eraser_repeat(annotation, what, seen[key])
            annotations.append(annotation)
    return annotations


def _eraser_repeat(annotation: dict[str, Any], what: str, other: str) -> DataFormatError:
    if what == "annotation_id":
        return _fail(annotation["file"], annotation["where"], f"annotation_id repeats the one at {other}",
                     "Give every annotation its own annotation_id.")
    return _fail(annotation["file"], annotation["where"],
                 f"document {annotation['docid']!r} is also the text of the annotation at {other}",
                 "This ERASER task pairs a query with each document (BoolQ, FEVER, MultiRC); humal_nb "
                 "classifies a text on its own, so only tasks with one annotation per document (Movies) "
                 "can be imported.")


def _eraser_annotation(path: Path, number: int, record: Any) -> dict[str, Any]:
    if not isinstance(record, dict):
        raise _fail(path.name, f"line {number}", f"a JSON {type(record).__name__}, not an object",
                    "Write one annotation object per line.")
    annotation_id = record.get("annotation_id")
    where = f"line {number} (annotation_id {annotation_id!r})" if annotation_id is not None else f"line {number}"
    if not isinstance(annotation_id, str) or not annotation_id:
        raise _fail(path.name, where, "annotation_id is missing", "Give every annotation an annotation_id.")
    classification = record.get("classification")
    if not isinstance(classification, str) or not classification:
        raise _fail(path.name, where, "classification is missing", "Give every annotation its class.")
    docids = record.get("docids") or [annotation_id]
    if not isinstance(docids, list) or len(docids) != 1:
        raise _fail(path.name, where, f"docids is {docids!r}: the annotation spans {len(docids)} documents",
                    "humal_nb classifies one text; only tasks with one document per annotation can be imported.")
    evidences = _eraser_evidences(path, where, record.get("evidences"))
    return {"annotation_id": annotation_id, "classification": classification, "docid": str(docids[0]),
            "evidences": evidences, "file": path.name, "where": where, "split": path.stem}


def _eraser_evidences(path: Path, where: str, evidences: Any) -> list[dict[str, Any]]:
    """The evidences of all groups, flattened (a bare evidence object counts as a group of one)."""
    if evidences is None:
        return []
    if not isinstance(evidences, list):
        raise _fail(path.name, where, f"evidences is a {type(evidences).__name__}, not a list of evidence groups")
    flat = []
    for group in evidences:
        for evidence in group if isinstance(group, list) else [group]:
            if not isinstance(evidence, dict):
                raise _fail(path.name, where, f"an evidence is {str(evidence)[:40]!r}, not an object "
                            "with docid, start_token, end_token")
            flat.append(evidence)
    return flat


class _EraserDocs:
    """ERASER documents, read on demand from `docs/<docid>` or `docs.jsonl`, as tokens."""

    def __init__(self, src: Path) -> None:
        self.src = src
        self.folder = src / "docs"
        self.jsonl: dict[str, str] | None = None
        if not self.folder.is_dir():
            if not (src / "docs.jsonl").is_file():
                raise DataNotFoundError(f"ERASER folder {str(src)!r} has neither docs/ nor docs.jsonl.")
            self.jsonl = self._read_docs_jsonl(src / "docs.jsonl")

    @staticmethod
    def _read_docs_jsonl(path: Path) -> dict[str, str]:
        docs = {}
        for number, record in _read_jsonl(path):
            if not isinstance(record, dict) or not isinstance(record.get("document"), str) or "docid" not in record:
                raise _fail(path.name, f"line {number}", "not an object with docid and document (a string)")
            docs[str(record["docid"])] = record["document"]
        return docs

    def tokens(self, docid: str, annotation: dict[str, Any]) -> list[str]:
        """The document's tokens as ERASER reads them (utils.load_documents)."""
        if self.jsonl is not None:
            if docid not in self.jsonl:
                raise _fail(annotation["file"], annotation["where"], f"document {docid!r} is not in docs.jsonl",
                            "Add the document or remove the annotation.")
            return [t for line in self.jsonl[docid].split("\n") for t in line.strip().split(" ")]
        path = self.folder / docid
        if not path.is_file():
            raise _fail(annotation["file"], annotation["where"], f"document docs/{docid} does not exist",
                        "Add the document or remove the annotation.")
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
        return [t for line in lines if line for t in line.split(" ") if t]


def _eraser_row(annotation: dict[str, Any], docs: _EraserDocs, positive: str) -> dict[str, Any]:
    tokens = docs.tokens(annotation["docid"], annotation)
    text, spans = _token_words(tokens)
    if not text.split():
        raise _fail(f"docs/{annotation['docid']}", annotation["where"], "the document has no words",
                    "Remove the annotation or restore the document.")
    flagged: set[int] = set()
    for evidence in annotation["evidences"]:
        flagged.update(_evidence_tokens(evidence, annotation, len(tokens)))
    return {
        "text_id": annotation["docid"],
        "text": text,
        "label": int(annotation["classification"] == positive),
        "annotator": "eraser",
        "highlights": _words_of_tokens(spans, flagged),
        "split": annotation["split"],
    }


def _evidence_tokens(evidence: dict[str, Any], annotation: dict[str, Any], n_tokens: int) -> range:
    docid = str(evidence.get("docid", annotation["docid"]))
    if docid != annotation["docid"]:
        raise _fail(annotation["file"], annotation["where"],
                    f"an evidence is in document {docid!r}, not in the annotation's document {annotation['docid']!r}",
                    "Evidence must lie in the annotated document.")
    start, end = evidence.get("start_token"), evidence.get("end_token")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end)) or start < 0:
        raise _fail(annotation["file"], annotation["where"],
                    f"an evidence has start_token {start!r}, end_token {end!r}: no token span",
                    "humal_nb needs token spans (start_token inclusive, end_token exclusive).")
    if not start < end <= n_tokens:
        raise _fail(annotation["file"], annotation["where"],
                    f"evidence tokens [{start}, {end}) are not a span of document {docid!r} ({n_tokens} tokens)",
                    "Check that docs/ is the folder these annotations were made on.")
    return range(start, end)


# ---------------------------------------------------------------------- HateXplain
def import_hatexplain(src: str | Path, out: str | Path) -> Path:
    """HateXplain's dataset.json as generic JSONL: one row per (post, annotator)."""
    out, src = _check_out(out), Path(src)
    if not src.is_file():
        raise DataNotFoundError(f"HateXplain file {str(src)!r} does not exist. Pass HateXplain's Data/dataset.json.")
    posts = _read_json(src)
    if not isinstance(posts, dict):
        raise DataFormatError(f"{src.name}: a JSON {type(posts).__name__}, not an object of post_id -> post. "
                              "Pass HateXplain's Data/dataset.json.")
    rows: list[dict[str, Any]] = []
    empty = []
    for post_id, post in posts.items():
        post_rows = _hatexplain_rows(src, str(post_id), post)
        if post_rows is None:
            empty.append(str(post_id))
        rows.extend(post_rows or [])
    if empty:
        warnings.warn(f"{src.name}: skipped {len(empty)} post(s) with no tokens: {', '.join(empty[:5])}"
                      f"{' ...' if len(empty) > 5 else ''}.", stacklevel=2)
    return _write_rows(_drop_repeated_texts(rows, src), out, src)


def _hatexplain_rows(src: Path, post_id: str, post: Any) -> list[dict[str, Any]] | None:
    """The post's rows (one per annotator), or None for a post with no words."""
    where = f"post {post_id!r}"
    if not isinstance(post, dict):
        raise _fail(src.name, where, f"a JSON {type(post).__name__}, not an object")
    tokens = post.get("post_tokens")
    if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
        raise _fail(src.name, where, "post_tokens is missing or not a list of strings")
    text, spans = _token_words(tokens)
    if not text.split():
        return None
    labels = _hatexplain_labels(src, where, post.get("annotators"))
    rationales = _hatexplain_rationales(src, where, post.get("rationales"), len(tokens), labels)
    label = int(2 * sum(labels) > len(labels))  # a tie is not a majority: normal
    rows, next_rationale = [], iter(rationales)
    for annotator, annotator_label in zip(post["annotators"], labels):
        rationale = next(next_rationale, None) if annotator_label else None
        flagged = [i for i, v in enumerate(rationale or []) if v]
        rows.append({"text_id": post_id, "text": text, "label": label, "annotator_label": annotator_label,
                     "annotator": str(annotator.get("annotator_id", f"annotator {len(rows) + 1}")),
                     "highlights": _words_of_tokens(spans, flagged)})
    return rows


def _hatexplain_labels(src: Path, where: str, annotators: Any) -> list[int]:
    if not isinstance(annotators, list) or not annotators:
        raise _fail(src.name, where, "annotators is missing or empty")
    labels = []
    for number, annotator in enumerate(annotators, start=1):
        raw = annotator.get("label") if isinstance(annotator, dict) else None
        label = HATEXPLAIN_LABELS.get(raw.strip().lower()) if isinstance(raw, str) else None
        if label is None:
            raise _fail(src.name, where, f"annotator {number} has label {raw!r}, not one of "
                        f"{', '.join(HATEXPLAIN_LABELS)}")
        labels.append(label)
    return labels


def _hatexplain_rationales(src: Path, where: str, rationales: Any, n_tokens: int, labels: list[int]) -> list[list[int]]:
    """The rationales: none, or one per annotator who did not say normal, each 0/1 per token."""
    rationales = rationales or []
    if not isinstance(rationales, list):
        raise _fail(src.name, where, f"rationales is a {type(rationales).__name__}, not a list")
    if rationales and len(rationales) != sum(labels):
        raise _fail(src.name, where, f"{len(rationales)} rationales for {sum(labels)} annotators who did not say normal",
                    "Each annotator who said offensive or hatespeech gives one rationale, in the annotators' order.")
    for number, rationale in enumerate(rationales, start=1):
        if not isinstance(rationale, list) or len(rationale) != n_tokens:
            size = len(rationale) if isinstance(rationale, list) else type(rationale).__name__
            raise _fail(src.name, where, f"rationale {number} has {size} values for {n_tokens} post_tokens",
                        "Give one 0 or 1 per token.")
        bad = [v for v in rationale if v not in (0, 1) or isinstance(v, bool)]
        if bad:
            raise _fail(src.name, where, f"rationale {number} holds {bad[0]!r}: every value must be 0 or 1")
    return rationales


# ---------------------------------------------------------------------- Label Studio
def import_labelstudio(src: str | Path, out: str | Path, positive: str | None = None) -> Path:
    """A Label Studio JSON export as generic JSONL: one row per completed annotation."""
    out, src = _check_out(out), Path(src)
    if not src.is_file():
        raise DataNotFoundError(f"Label Studio export {str(src)!r} does not exist. Export the project as JSON.")
    tasks = _read_json(src)
    if not isinstance(tasks, list):
        raise DataFormatError(f"{src.name}: a JSON {type(tasks).__name__}, not a list of tasks. "
                              "Export the project in Label Studio's JSON format (not JSON-MIN or CSV).")
    annotations = _labelstudio_annotations(src, tasks)
    _check_positive(positive, (a["choice"] for a in annotations), "choice", src)
    rows = [_labelstudio_row(a, positive) for a in annotations]
    return _write_rows(_drop_repeated_texts(rows, src), out, src)


def _labelstudio_annotations(src: Path, tasks: list[Any]) -> list[dict[str, Any]]:
    """Every completed annotation: task id, text, annotator, choice and highlighted words."""
    found: list[dict[str, Any]] = []
    seen_ids: dict[str, int] = {}
    for number, task in enumerate(tasks, start=1):
        if not isinstance(task, dict):
            raise _fail(src.name, f"task {number}", f"a JSON {type(task).__name__}, not an object")
        task_id = str(task.get("id", number))
        where = f"task {task_id} (item {number})"
        if seen_ids.setdefault(task_id, number) != number:
            raise _fail(src.name, where, f"task id repeats the one of item {seen_ids[task_id]}",
                        "Export the project again: task ids are unique.")
        text = _labelstudio_text(src, where, task)
        for annotation in task.get("annotations") or []:
            if isinstance(annotation, dict) and annotation.get("was_cancelled"):
                continue
            found.append(_labelstudio_annotation(src, where, task_id, text, annotation))
    return found


def _labelstudio_text(src: Path, where: str, task: dict[str, Any]) -> str:
    data = task.get("data")
    text = data.get("text") if isinstance(data, dict) else None
    if not isinstance(text, str):
        keys = ", ".join(map(repr, data)) if isinstance(data, dict) else "none"
        raise _fail(src.name, where, f"data.text is missing (data holds {keys})",
                    "Label the text under the name 'text' (<Text name=\"text\" value=\"$text\"/>).")
    if not text.split():
        raise _fail(src.name, where, "data.text is empty", "Remove the task: an empty text cannot be classified.")
    return text


def _labelstudio_annotation(src: Path, where: str, task_id: str, text: str, annotation: Any) -> dict[str, Any]:
    if not isinstance(annotation, dict):
        raise _fail(src.name, where, f"an annotation is a {type(annotation).__name__}, not an object")
    where = f"{where}, annotation {annotation.get('id', '?')}"
    results = annotation.get("result") or []
    if not isinstance(results, list):
        raise _fail(src.name, where, f"result is a {type(results).__name__}, not a list")
    spans = [_labelstudio_span(src, where, text, r) for r in results if isinstance(r, dict) and r.get("type") == "labels"]
    return {"task_id": task_id, "text": text, "annotator": _annotator(annotation),
            "choice": _labelstudio_choice(src, where, results), "words": _words_under(text, spans)}


def _annotator(annotation: dict[str, Any]) -> str:
    """`completed_by` as a string (a user id, or an older export's user object), else the annotation id."""
    who = annotation.get("completed_by")
    if isinstance(who, dict):
        who = who.get("email") or who.get("id")
    return str(who if who is not None else f"annotation {annotation.get('id', '?')}")


def _labelstudio_choice(src: Path, where: str, results: list[Any]) -> str:
    choices = [r for r in results if isinstance(r, dict) and r.get("type") == "choices"]
    if len(choices) != 1:
        raise _fail(src.name, where, f"{len(choices)} choices results: the label comes from exactly one",
                    "Give every annotation one choice of the class (a <Choices> tag), or remove it.")
    picked = (choices[0].get("value") or {}).get("choices")
    if not isinstance(picked, list) or len(picked) != 1 or not isinstance(picked[0], str):
        raise _fail(src.name, where, f"the choices result picks {picked!r}, not one choice",
                    "Pick one class per annotation (<Choices choice=\"single\">).")
    return picked[0]


def _labelstudio_span(src: Path, where: str, text: str, result: dict[str, Any]) -> tuple[int, int]:
    """A labels result's [start, end) in Python characters of `text`."""
    value = result.get("value") or {}
    start, end = value.get("start"), value.get("end")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end)):
        raise _fail(src.name, where, f"a labels result has start {start!r}, end {end!r}, not character offsets",
                    "Highlight spans of the plain text (<Labels> on a <Text> tag).")
    if not 0 <= start < end:
        raise _fail(src.name, where, f"a labels result has the empty or negative span [{start}, {end})")
    span = (start, end)
    if "text" in value and text[start:end] != value["text"]:
        span = _utf16_span(text, start, end)
        if span is None or text[span[0]:span[1]] != value["text"]:
            raise _fail(src.name, where, f"the span [{start}, {end}) does not hold its text {value['text']!r}",
                        "Export the project again; the offsets must point into data.text.")
    if span[1] > len(text):
        raise _fail(src.name, where, f"the span [{start}, {end}) ends beyond data.text ({len(text)} characters)")
    return span


def _utf16_span(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Python indices of UTF-16 offsets (a browser counts a character beyond U+FFFF as two)."""
    index_of, units = {}, 0
    for index, char in enumerate(text):
        index_of[units] = index
        units += 2 if ord(char) > 0xFFFF else 1
    index_of[units] = len(text)
    if start not in index_of or end not in index_of:
        return None
    return index_of[start], index_of[end]


def _word_spans(text: str) -> list[tuple[int, int]]:
    """[start, end) characters of each word of `text.split()`."""
    spans, start = [], None
    for index, char in enumerate(text + " "):
        if char.isspace():
            if start is not None:
                spans.append((start, index))
            start = None
        elif start is None:
            start = index
    return spans


def _words_under(text: str, spans: list[tuple[int, int]]) -> list[int]:
    """Indices of the words that share at least one character with a span."""
    words = _word_spans(text)
    return [i for i, (ws, we) in enumerate(words) if any(ws < end and start < we for start, end in spans)]


def _labelstudio_row(annotation: dict[str, Any], positive: str) -> dict[str, Any]:
    return {"text_id": annotation["task_id"], "text": annotation["text"],
            "annotator_label": int(annotation["choice"] == positive), "annotator": annotation["annotator"],
            "highlights": annotation["words"]}


FORMATS: dict[str, Callable[..., Path]] = {
    "eraser": import_eraser,
    "hatexplain": import_hatexplain,
    "labelstudio": import_labelstudio,
}


# ---------------------------------------------------------------------- command line
