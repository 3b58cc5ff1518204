"""The annotation widget in a real browser: Voila serves notebooks/annotate.ipynb live, headless
Chromium (Debian's /usr/bin/chromium, driven by Playwright) annotates texts by clicking and
dragging over words, buttons and a keyboard shortcut; the saved file is checked, the page is
reloaded to check resuming, and a tiny real run trains on the file."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nbformat
import pytest
from test_browser import CHROMIUM, REQUIRED, _free_port, _recording_page, _wait_for_port
from test_browser import chromium as chromium  # noqa: F401 - the fixture: a fresh headless Chromium

from humal_nb.config.run_config import RunConfig
from humal_nb.core.paths import outputs_dir
from humal_nb.data import load_generic
from humal_nb.experiments.train import run_experiment

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "annotate.ipynb"
SCREENSHOT = outputs_dir() / "annotate_widget.png"
XSS = "<script>window.__xss=1</script>"
TINY_RUN = dict(data_size=4, imbalance_ratio=0.5, n_test=4, epochs=1, batch_size=4, max_length=32, save_model=False)

# skipped where Chromium is missing, except where HUMAL_REQUIRE_BROWSER is set (.ci/run sets it)
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists() and not REQUIRED,
                       reason="/usr/bin/chromium is missing (apt-get install chromium)"),
]


REVIEWS = [  # (label, text): negative and positive in turn
    (0, "The soup was cold and the waiter ignored us for twenty minutes."),
    (1, "Great tacos, friendly staff and the salsa bar is amazing."),
    (0, "Dirty tables, slow service and the fries tasted like old oil."),
    (1, "Lovely patio, fresh bread and the best espresso in town."),
    (0, "We waited an hour for a burnt pizza. Never again."),
    (1, f"Our server was kind and the pasta was perfect. {XSS}"),
    (0, "Rude staff at the counter and the coffee was bitter and lukewarm."),
    (1, "Delicious brunch, generous portions and quick service every time."),
    (0, "Overpriced sushi that was not fresh, and the room smelled bad."),
    (1, "The dumplings are wonderful and the prices are fair."),
    (0, "The music was so loud we could not talk, and the steak was dry."),
    (1, "A cozy little place with excellent wine and a warm welcome."),
]
N_TEXTS = len(REVIEWS)


def _texts(folder: Path) -> list[dict]:
    """The reviews as a texts file (text_id, text, label); review 5 holds a script tag as a word."""
    rows = [{"text_id": f"r{i}", "text": text, "label": label} for i, (label, text) in enumerate(REVIEWS)]
    (folder / "texts.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return rows


def _parameterized_copy(folder: Path, parameters: dict) -> Path:
    """annotate.ipynb with its parameters cell set (Voila takes no parameters)."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    cell.source += "\n" + "\n".join(f"{key} = {value!r}" for key, value in parameters.items()) + "\n"
    path = folder / "annotate.ipynb"
    nbformat.write(nb, path)
    return path


@contextmanager
def _voila(notebook: Path, folder: Path) -> Iterator[int]:
    """Voila serving `notebook` on a free local port, stopped afterwards."""
    port, log = _free_port(), folder / "voila.log"
    voila = Path(sys.executable).with_name("voila")
    with log.open("w") as handle:
        proc = subprocess.Popen(
            [str(voila), str(notebook), "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1"],
            stdout=handle, stderr=subprocess.STDOUT, cwd=folder, start_new_session=True,
        )
    try:
        _wait_for_port(port, proc, log)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


# ---------------------------------------------------------------------- page helpers
def _wait_contains(page, selector: str, text: str, timeout: float = 60_000) -> None:
    page.wait_for_function(
        "([sel, text]) => { const el = document.querySelector(sel); return !!el && el.innerText.includes(text); }",
        arg=[selector, text], timeout=timeout,
    )


def _wait_for_text(page, row: dict) -> None:
    """Until the word area shows this text."""
    page.wait_for_function(
        "text => { const el = document.querySelector('.humal-words');"
        " return !!el && Array.from(el.querySelectorAll('.humal-word')).map(w => w.textContent).join(' ') === text; }",
        arg=" ".join(row["text"].split()), timeout=60_000,
    )


def _start(page, annotator: str) -> None:
    page.wait_for_selector(".humal-annotate-start input", timeout=180_000)
    page.fill(".humal-annotate-start input", annotator)
    page.click(".humal-annotate-start button")
    page.wait_for_selector(".humal-words .humal-word", timeout=60_000)


def _word(page, index: int):
    return page.locator(".humal-words .humal-word").nth(index)


def _selected(page) -> list[int]:
    return page.eval_on_selector_all(".humal-word.is-selected", "els => els.map(e => Number(e.dataset.index))")


def _drag(page, first: int, last: int) -> None:
    start, end = _word(page, first).bounding_box(), _word(page, last).bounding_box()
    page.mouse.move(start["x"] + 3, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(end["x"] + end["width"] - 3, end["y"] + end["height"] / 2, steps=8)
    page.mouse.up()


def _answer(page, answer: str, done: int) -> None:
    page.locator(".humal-annotate-answers button", has_text=answer).first.click()
    _wait_contains(page, ".humal-annotate-status", f"{done} of {N_TEXTS} done")


def _annotate(page, row: dict, words: list[int], answer: str, done: int) -> None:
    """Click `words`, answer, Next."""
    _wait_for_text(page, row)
    for index in words:
        _word(page, index).click()
    page.wait_for_function("n => document.querySelectorAll('.humal-word.is-selected').length === n", arg=len(words))
    _answer(page, answer, done)
    page.click(".humal-annotate-next")


def _saved(path: Path) -> dict[str, dict]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert all(r["annotator"] == "alice" for r in rows)
    return {r["text_id"]: r for r in rows}


# ---------------------------------------------------------------------- the test
def test_annotate_in_voila_resume_then_train(chromium, tmp_path):
    rows = _texts(tmp_path)
    out = tmp_path / "annotations.jsonl"
    notebook = _parameterized_copy(tmp_path, {"texts_file": str(tmp_path / "texts.jsonl"), "out_file": str(out),
                                              "annotator": ""})
    with _voila(notebook, tmp_path) as port:
        page, log = _recording_page(chromium)
        page.goto(f"http://127.0.0.1:{port}/", timeout=180_000)
        _start(page, "alice")
        _annotate_first_session(page, rows, out)
        assert page.evaluate("window.__xss") is None
        assert not log.errors, log.errors

        page.reload(timeout=180_000)  # a new kernel: the file is all that is left
        _start(page, "alice")
        _wait_for_text(page, rows[2])  # the skipped text: the first one not done
        _wait_contains(page, ".humal-annotate-status", f"{N_TEXTS - 1} of {N_TEXTS} done")
        _annotate(page, rows[2], [1], "yes", N_TEXTS)
        _wait_contains(page, ".humal-annotate-message", f"All {N_TEXTS} texts are done")
        page.click(".humal-annotate-previous")  # back to the last text: its saved highlights show
        _wait_for_text(page, rows[N_TEXTS - 1])
        assert _selected(page) == [0, 4]
        assert page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count() == 0
        # on reload, Voila's page asks its server to shut the old kernel down, which answers 403
        assert not [e for e in log.errors if "/voila/api/shutdown/" not in e], log.errors
        page.close()

    saved = _saved(out)
    assert len(saved) == N_TEXTS and saved["r2"]["highlights"] == [1]
    _train_on(out)


def _annotate_first_session(page, rows: list[dict], out: Path) -> None:
    """Texts 0..11 but 2 (skipped): clicks, a click that clears, a drag, the `y` and Enter keys,
    each answer; then check the file as saved."""
    _wait_for_text(page, rows[0])
    _wait_contains(page, ".humal-annotate-status", f"0 of {N_TEXTS} done")
    for index in (1, 2, 3, 2):  # the second click on word 2 clears it
        _word(page, index).click()
    page.wait_for_function("() => document.querySelectorAll('.humal-word.is-selected').length === 2")
    _answer(page, "yes", 1)
    assert _saved(out)["r0"]["highlights"] == [1, 3]  # saved at once, before Next
    page.click(".humal-annotate-next")

    _wait_for_text(page, rows[1])
    _drag(page, 0, 3)
    _word(page, 9).click()
    page.wait_for_function("() => document.querySelectorAll('.humal-word.is-selected').length === 5")
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.locator(".humal-annotate").screenshot(path=str(SCREENSHOT))
    page.keyboard.press("y")  # the words have focus since the drag
    _wait_contains(page, ".humal-annotate-status", f"2 of {N_TEXTS} done")
    page.keyboard.press("Enter")

    _wait_for_text(page, rows[2])
    page.click(".humal-annotate-skip")
    _annotate(page, rows[3], [0], "no", 3)
    _annotate(page, rows[4], [2], "idk", 4)
    _wait_for_text(page, rows[5])
    assert XSS in page.eval_on_selector_all(".humal-word", "els => els.map(e => e.textContent)")
    for k in range(5, N_TEXTS):
        _annotate(page, rows[k], [0, 4], "yes", k)
    _wait_for_text(page, rows[2])  # Next wrapped around to the skipped text
    _wait_contains(page, ".humal-annotate-status", f"{N_TEXTS - 1} of {N_TEXTS} done")

    saved = _saved(out)
    assert sorted(saved) == sorted(r["text_id"] for r in rows if r["text_id"] != "r2")
    assert saved["r1"]["highlights"] == [0, 1, 2, 3, 9] and saved["r1"]["answer"] == "yes"
    assert (saved["r3"]["answer"], saved["r3"]["annotator_label"], saved["r3"]["label"]) == ("no", 0, 1)
    assert (saved["r4"]["answer"], saved["r4"]["annotator_label"], saved["r4"]["label"]) == ("idk", 1, 0)
    assert saved["r11"]["highlights"] == [0, 4] and saved["r5"]["text"] == rows[5]["text"]


def _train_on(out: Path) -> None:
    """The file is a data_file: the texts answered `yes` are kept (5 per label); a tiny real run trains."""
    reviews = load_generic(out)
    assert len(reviews) == N_TEXTS - 2 and reviews["label"].value_counts().to_dict() == {0: 5, 1: 5}
    metrics = run_experiment(RunConfig(data_file=str(out), **TINY_RUN), progress=False)
    assert metrics["n_train"] == 4 and metrics["n_test"] == 4
    assert math.isfinite(metrics["auc"]) and math.isfinite(metrics["attention"]["cosine_to_human"])
