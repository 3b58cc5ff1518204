"""The README's three pictures (`make readme-pictures`), small PNGs under outputs/readme/.

    python scripts/readme_pictures.py [--only fig3|explorer|annotate ...]

- `fig3.png`: the replication's Fig. 3 (mean AUC against the imbalance ratio) drawn from the
  committed record outputs/replication/table3 by `humal_nb.publication.figures.write_figures` (matplotlib:
  the same record gives the same bytes; tests/test_readme_pictures.py checks it).
- `explorer.png`: the attention explorer (`humal_nb.explorer.browser`, compare_attention.ipynb served by
  Voila, read by headless Chromium) on test review `REVIEW_ID` of the quickstart pair, from the
  controls down to the heatmap rows (human, Baseline, HuMAL-AL). The pair is the fixed run
  `humal-nb run parameters/quickstart.yaml` (outputs/quickstart); it is trained first when its
  metrics.json is missing.
- `annotate.png`: the annotation widget (notebooks/annotate.ipynb served by Voila) on the first
  of `ANNOTATE_TEXTS`, a few words clicked.

Screenshots need /usr/bin/chromium (apt-get install chromium). Each PNG is reduced to a 256-colour
palette to stay small. `scripts/readme_pictures.json` records each picture's sha256, size and what it was made
from; a partial run (`--only`) keeps the other pictures' entries.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nbformat
from PIL import Image

from humal_nb.analyses import compare
from humal_nb.core.paths import REPO_ROOT, outputs_dir
from humal_nb.publication import figures

OUT = REPO_ROOT / "outputs" / "readme"
MANIFEST = Path(__file__).with_suffix(".json")  # beside this script: outputs/ holds only the PNGs
BUDGET_BYTES = 1_000_000  # all pictures together
COMMAND = "make readme-pictures"

RECORD = "outputs/replication/table3"  # the committed Table III grid record (read only)
FIG3_FILE = "fig3_auc_vs_ratio.png"  # what write_figures names Fig. 3

QUICKSTART = "parameters/quickstart.yaml"
# a short test review (50 words, negative, both models right): the annotators highlight "Slow horrible
# service", "bland" and "tasteless", the baseline looks at "pizzas", "margaritas", "food", HuMAL-AL at
# "tasteless", "horrible", "bland", "service", "Slow" (cosine to human 0.22 -> 0.81)
REVIEW_ID = "ham_part2(50words):983"
EXPLORER_NOTEBOOK = REPO_ROOT / "notebooks" / "compare_attention.ipynb"
ANNOTATE_NOTEBOOK = REPO_ROOT / "notebooks" / "annotate.ipynb"
ANNOTATE_TEXTS = [  # (label, text); the first is shown with the words of ANNOTATE_CLICKS highlighted
    (1, "Great tacos, friendly staff and the salsa bar is amazing. We will be back next week."),
    (0, "The soup was cold and the waiter ignored us for twenty minutes."),
    (1, "Lovely patio, fresh bread and the best espresso in town."),
]
ANNOTATE_CLICKS = (0, 2, 3, 9)  # word indexes: Great, friendly, staff, amazing.

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 900, "height": 1400}
SCALE = 2  # device pixels per CSS pixel: sharp text on high-density screens, scaled down elsewhere
PAGE_TIMEOUT_MS = 300_000  # Voila runs the notebook before the page shows (slow on a busy CPU)


# ---------------------------------------------------------------------- fig3.png
def fig3_png(record: str | Path, out_file: Path) -> Path:
    """Fig. 3 of the grid record `record` as `out_file`: write_figures' PNG, copied unchanged."""
    with tempfile.TemporaryDirectory() as tmp:
        written = figures.write_figures(record, out=tmp, formats="png")
        made = Path(tmp) / FIG3_FILE
        if made not in written.files:
            raise RuntimeError(f"write_figures drew no {FIG3_FILE} from {record}: {written.notes}")
        out_file.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(made, out_file)
    return out_file


# ---------------------------------------------------------------------- the quickstart pair
def quickstart_run() -> Path:
    """The quickstart pair's folder (HuMAL-AL, its baseline/ inside), trained when missing."""
    run = outputs_dir() / "quickstart"
    if not (run / "metrics.json").exists():
        print(f"training the quickstart pair: humal-nb run {QUICKSTART} (several minutes on a CPU)")
        subprocess.run([str(Path(sys.executable).with_name("humal-nb")), "run", QUICKSTART, "--out", str(run)],
                       cwd=REPO_ROOT, check=True)
    return run


# ---------------------------------------------------------------------- Voila and Chromium
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def voila(notebook: Path, folder: Path) -> Iterator[str]:
    """Voila serving `notebook` on a free local port (its URL), stopped afterwards."""
    port, log = _free_port(), folder / "voila.log"
    with log.open("w") as handle:
        proc = subprocess.Popen(
            [str(Path(sys.executable).with_name("voila")), str(notebook), "--no-browser", f"--port={port}",
             "--Voila.ip=127.0.0.1"],
            stdout=handle, stderr=subprocess.STDOUT, cwd=folder, start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"voila did not start:\n{log.read_text()[-3000:]}")
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@contextmanager
def chromium_page(folder: Path) -> Iterator:
    """A page of a fresh headless Chromium (Debian's /usr/bin/chromium) at `VIEWPORT`."""
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        raise RuntimeError(f"{CHROMIUM} is missing: apt-get install chromium")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(folder / "profile"), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
            viewport=VIEWPORT, device_scale_factor=SCALE,
        )
        try:
            yield context.new_page()
        finally:
            context.close()


def notebook_copy(notebook: Path, folder: Path, parameters: dict, last_cell: str | None = None) -> Path:
    """`notebook` with its parameters cell set (Voila takes no parameters), cut after the first
    cell whose source contains `last_cell` (when given)."""
    nb = nbformat.read(notebook, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    cell.source += "\n" + "\n".join(f"{key} = {value!r}" for key, value in parameters.items()) + "\n"
    if last_cell is not None:
        end = next(i for i, c in enumerate(nb.cells) if last_cell in c.source)
        nb.cells = nb.cells[: end + 1]
    path = folder / notebook.name
    nbformat.write(nb, path)
    return path


def small_png(shot: Path, out_file: Path) -> Path:
    """The screenshot as a 256-colour palette PNG (a third of the bytes; UI colours survive)."""
    with Image.open(shot) as image:
        image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
            out_file, optimize=True)
    return out_file


# ---------------------------------------------------------------------- explorer.png
def explorer_png(run: Path, review_id: str, out_file: Path) -> Path:
    """The explorer's controls, review line and heatmap rows of `review_id`, served live."""
    row = compare.load_comparison(run / "baseline", run).review(review_id)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        notebook = notebook_copy(EXPLORER_NOTEBOOK, folder, {"humal_run": str(run), "faithfulness": False,
                                                             "n_static": 0}, last_cell="explorer.example_browser")
        with voila(notebook, folder) as url, chromium_page(folder) as page:
            page.goto(url, timeout=PAGE_TIMEOUT_MS)
            page.wait_for_selector(".humal-heatmap-output .main-svg", timeout=PAGE_TIMEOUT_MS)
            index = page.eval_on_selector(
                ".humal-review select",
                "(el, id) => Array.from(el.options).findIndex("  # ipywidgets shows spaces as no-break spaces
                "o => o.textContent.replace(/\\u00a0/g, ' ').startsWith(id + ' |'))", review_id)
            if index < 0:
                raise RuntimeError(f"review {review_id} is not in the explorer's list")
            page.select_option(".humal-review select", index=index)
            page.wait_for_function(
                "words => { const shown = new Set(Array.from(document.querySelectorAll("
                "'.humal-heatmap-output svg text')).map(e => e.textContent));"
                " return words.every(w => shown.has(w)); }",
                arg=sorted(set(map(str, row["words"]))), timeout=60_000)
            page.mouse.move(0, 0)  # no hover label
            page.wait_for_timeout(1500)
            top = page.locator(".humal-explorer").bounding_box()
            bottom = page.locator(".humal-heatmap-output").bounding_box()
            clip = {"x": top["x"], "y": top["y"], "width": top["width"],
                    "height": bottom["y"] + bottom["height"] - top["y"]}
            page.screenshot(path=str(folder / "shot.png"), clip=clip, full_page=True)
        return small_png(folder / "shot.png", out_file)


# ---------------------------------------------------------------------- annotate.png
def annotate_png(out_file: Path) -> Path:
    """The annotation widget on the first of ANNOTATE_TEXTS with ANNOTATE_CLICKS highlighted."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rows = [{"text_id": f"t{i}", "text": text, "label": label} for i, (label, text) in enumerate(ANNOTATE_TEXTS)]
        texts = folder / "texts.jsonl"
        texts.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        notebook = notebook_copy(ANNOTATE_NOTEBOOK, folder, {
            "texts_file": str(texts), "out_file": str(folder / "annotations.jsonl"), "annotator": "reader"})
        with voila(notebook, folder) as url, chromium_page(folder) as page:
            page.goto(url, timeout=PAGE_TIMEOUT_MS)
            page.wait_for_selector(".humal-words .humal-word", timeout=PAGE_TIMEOUT_MS)
            words = page.locator(".humal-words .humal-word")
            for index in ANNOTATE_CLICKS:
                words.nth(index).click()
            page.wait_for_function("n => document.querySelectorAll('.humal-word.is-selected').length === n",
                                   arg=len(ANNOTATE_CLICKS))
            page.mouse.move(0, 0)
            page.wait_for_timeout(500)
            page.locator(".humal-annotate").screenshot(path=str(folder / "shot.png"))
        return small_png(folder / "shot.png", out_file)


# ---------------------------------------------------------------------- the manifest
def describe(path: Path, made_from: dict) -> dict:
    """A manifest entry: the file's sha256, bytes and pixel size, and what it was made from."""
    with Image.open(path) as image:
        width, height = image.size
    return {"sha256": _sha256(path), "bytes": path.stat().st_size, "width": width, "height": height, **made_from}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_manifest() -> dict:
    return json.loads(MANIFEST.read_text(encoding="utf-8")) if MANIFEST.exists() else {"pictures": {}}


def write_manifest(entries: dict[str, dict]) -> dict:
    manifest = read_manifest()
    pictures = {**manifest.get("pictures", {}), **entries}
    manifest = {"command": COMMAND, "script": "scripts/readme_pictures.py", "budget_bytes": BUDGET_BYTES,
                "pictures": dict(sorted(pictures.items()))}
    MANIFEST.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def make(names: list[str]) -> dict:
    """Write the pictures named (fig3, explorer, annotate) and update the manifest."""
    OUT.mkdir(parents=True, exist_ok=True)
    entries: dict[str, dict] = {}
    if "fig3" in names:
        path = fig3_png(REPO_ROOT / RECORD, OUT / "fig3.png")
        entries[path.name] = describe(path, {
            "made_by": f"humal_nb.publication.figures.write_figures({RECORD!r}, formats='png') -> {FIG3_FILE}",
            "inputs": [f"{RECORD}/summary.csv", f"{RECORD}/*/metrics.json"]})
    if "explorer" in names:
        run = quickstart_run()
        path = explorer_png(run, REVIEW_ID, OUT / "explorer.png")
        entries[path.name] = describe(path, {
            "made_by": f"notebooks/compare_attention.ipynb (to the explorer cell, faithfulness off) served by Voila, "
                       f"review {REVIEW_ID} picked, screenshot by headless Chromium {VIEWPORT['width']} px wide at {SCALE}x",
            "inputs": [f"humal-nb run {QUICKSTART} -> outputs/quickstart (+ baseline/)", f"review_id {REVIEW_ID}",
                       *(f"{name} sha256 {_sha256(run / name)}" for name in ("attention.json", "baseline/attention.json"))]})
    if "annotate" in names:
        path = annotate_png(OUT / "annotate.png")
        entries[path.name] = describe(path, {
            "made_by": "notebooks/annotate.ipynb served by Voila, screenshot by headless Chromium "
                       f"{VIEWPORT['width']} px wide at {SCALE}x",
            "inputs": ["ANNOTATE_TEXTS and ANNOTATE_CLICKS in scripts/readme_pictures.py"]})
    manifest = write_manifest(entries)
    total = sum(p["bytes"] for p in manifest["pictures"].values())
    for name, entry in manifest["pictures"].items():
        print(f"{OUT.relative_to(REPO_ROOT)}/{name}: {entry['width']} x {entry['height']} px, {entry['bytes']} bytes")
    if total >= BUDGET_BYTES:
        raise SystemExit(f"the pictures take {total} bytes, over the budget of {BUDGET_BYTES}")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=["fig3", "explorer", "annotate"],
                        default=["fig3", "explorer", "annotate"], help="the pictures to write (default all)")
    make(parser.parse_args(argv).only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
