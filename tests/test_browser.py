"""The explorer in a real browser: Voila serves compare_attention.ipynb live, headless
Chromium (Debian's /usr/bin/chromium, driven by Playwright) clicks through it; then the
exported HTML report is opened from disk and must render with no remote script."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import nbformat
import pytest

from humal_nb.analyses import compare
from humal_nb.config import runs
from humal_nb.core.paths import outputs_dir

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
XSS = "<script>window.__xss=1</script>"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}

# skipped where Chromium is missing, except where HUMAL_REQUIRE_BROWSER is set (.ci/run sets it)
REQUIRED = bool(os.environ.get("HUMAL_REQUIRE_BROWSER"))
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists() and not REQUIRED,
                       reason="/usr/bin/chromium is missing (apt-get install chromium)"),
]


@pytest.fixture(scope="module")
def xss_pair(tmp_path_factory, minilm_pair) -> tuple[Path, Path]:
    """The session's tiny pair, copied with a script tag as the first test review's first word."""
    root = tmp_path_factory.mktemp("xss_pair")
    copies = []
    for src in minilm_pair:
        dst = root / src.name
        dst.mkdir()
        shutil.copy(src / runs.METRICS_FILE, dst / runs.METRICS_FILE)
        (dst / runs.MODEL_DIR).symlink_to(src / runs.MODEL_DIR)
        cache = runs.read_json(src / runs.ATTENTION_FILE)
        cache["reviews"][0]["words"][0] = XSS
        runs.write_json(dst / runs.ATTENTION_FILE, cache)
        copies.append(dst)
    return copies[0], copies[1]


@pytest.fixture()
def chromium(tmp_path):
    """A fresh headless Chromium (its own profile folder), closed after the test."""
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: apt-get install chromium (HUMAL_REQUIRE_BROWSER is set)"

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1700},
        )
        try:
            yield context
        finally:
            context.close()


@dataclass
class PageLog:
    """What a page did: JavaScript errors, failed remote loads (ignored), every request."""

    errors: list[str] = field(default_factory=list)
    remote_failures: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


def _recording_page(context):
    page, log = context.new_page(), PageLog()
    page.on("pageerror", lambda exc: log.errors.append(f"page error: {exc}"))
    page.on("request", lambda request: log.requests.append(request.url))

    def on_console(message):
        if message.type != "error":
            return
        url = (message.location or {}).get("url", "")
        if message.text.startswith("Failed to load resource") and urlparse(url).hostname not in LOCAL_HOSTS:
            log.remote_failures.append(url)  # Voila's font-awesome CSS from a CDN: offline here
        else:
            log.errors.append(f"console error: {message.text} ({url})")

    page.on("console", on_console)
    return page, log


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, proc: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"voila exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    pytest.fail(f"voila did not listen on port {port} within {timeout} s:\n{log.read_text()[-3000:]}")


def _parameterized_copy(folder: Path, parameters: dict) -> Path:
    """compare_attention.ipynb with its parameters cell pointing at the runs (Voila takes no parameters)."""
    nb = nbformat.read(compare.COMPARE_NOTEBOOK, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    cell.source += "\n" + "\n".join(f"{key} = {value!r}" for key, value in parameters.items()) + "\n"
    path = folder / "compare_attention.ipynb"
    nbformat.write(nb, path)
    return path


def _heatmap_texts(page) -> list[str]:
    return page.eval_on_selector_all(".humal-heatmap-output svg text", "els => els.map(e => e.textContent)")


def test_explorer_live_in_voila_then_the_exported_report(xss_pair, chromium, tmp_path):
    page, log = _recording_page(chromium)
    baseline_dir, humal_dir = xss_pair
    comparison = compare.load_comparison(baseline_dir, humal_dir)
    first, second = comparison.reviews.iloc[0], comparison.reviews.iloc[1]
    assert first["words"][0] == XSS

    # ---------------------------------------------------------------- live, served by Voila
    notebook = _parameterized_copy(tmp_path, {"baseline_run": str(baseline_dir), "humal_run": str(humal_dir),
                                              "n_static": 2})
    port, voila_log = _free_port(), tmp_path / "voila.log"
    voila = Path(sys.executable).with_name("voila")
    with voila_log.open("w") as handle:
        proc = subprocess.Popen(
            [str(voila), str(notebook), "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1"],
            stdout=handle, stderr=subprocess.STDOUT, cwd=tmp_path, start_new_session=True,
        )
    try:
        _wait_for_port(port, proc, voila_log)
        page.goto(f"http://127.0.0.1:{port}/", timeout=180_000)
        page.wait_for_selector(".humal-heatmap-output .main-svg", timeout=180_000)
        texts = _heatmap_texts(page)
        assert XSS in texts, "the script-tag word shows as text"
        assert set(first["words"][:10]) <= set(texts) and {"human", "Baseline", "HuMAL-AL"} <= set(texts)
        assert page.evaluate("window.__xss") is None

        unique = [w for w in second["words"] if w not in first["words"]]
        page.select_option(".humal-review select", index=1)
        page.wait_for_function(
            "([sel, word]) => Array.from(document.querySelectorAll(sel)).some(e => e.textContent === word)",
            arg=[".humal-heatmap-output svg text", unique[0]], timeout=60_000,
        )
        texts = _heatmap_texts(page)
        assert set(second["words"][:10]) <= set(texts) and XSS not in texts
        page.wait_for_selector(".humal-examples", timeout=60_000)  # the static section ran too
        page.wait_for_timeout(1000)
        shot = outputs_dir() / "browser" / "compare.png"
        shot.parent.mkdir(parents=True, exist_ok=True)
        page.locator(".humal-explorer").screenshot(path=str(shot))
        assert page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count() == 0
        assert not log.errors, log.errors
        page.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    # ---------------------------------------------------------------- the exported report, offline
    report = compare.compare_report(tmp_path / "report", {
        "baseline_run": str(baseline_dir), "humal_run": str(humal_dir), "n_static": 4})
    page, log = _recording_page(chromium)
    page.goto(report.as_uri(), timeout=60_000)
    page.wait_for_selector(".plotly .main-svg", timeout=60_000)
    assert page.locator(".plotly").count() >= 1 and page.locator(".humal-heatmap").count() == 4
    remote = [u for u in log.requests if not u.startswith(("file:", "data:", "blob:", "about:"))]
    assert remote == [] and log.remote_failures == []
    assert page.evaluate("window.__xss") is None and XSS in page.inner_text("body")
    assert "Position" in page.inner_text("body") or "position" in page.inner_text("body")
    assert not log.errors, log.errors
