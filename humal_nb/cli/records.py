"""The committed records' blocks in the documentation: each written from a record's files.

A block sits between two marker lines of a Markdown page (`markers`): the main replication
record's (docs/replication.md), another record's named block (`--block gpu`, `controls`), and
the section "When are people's rationales worth paying for?" written from the records' folder
(`--block worth`, docs/worth-paying-for.md). `humal-nb replication GRID_DIR [--docs FILE]
[--block NAME]` prints a block or rewrites it in FILE; tests check every committed page against
the files it was written from.
"""

from __future__ import annotations

import re
from pathlib import Path

from humal_nb.analyses import controls, worth
from humal_nb.analyses.replication import BEGIN, END, POSITIONS_BEGIN, POSITIONS_END, markdown, position_markdown
from humal_nb.config import runs
from humal_nb.core.names import ARM_KEYS, SUMMARY_FILE
from humal_nb.experiments import report


def _replace_block(text: str, begin: str, end: str, body: str, path: Path) -> str:
    if begin not in text or end not in text:
        raise ValueError(f"{path} has no replication block: add the lines {begin} and {end} where it should "
                         "go, then run this again.")
    return re.sub(re.escape(begin) + r".*?" + re.escape(end), lambda _: f"{begin}\n{body}\n{end}", text, flags=re.S)


def markers(block: str = "") -> tuple[str, str]:
    """A README replication block's first and last lines: the main record's (BEGIN, END), or
    those of another record's block named `block` (e.g. "gpu")."""
    if not block:
        return BEGIN, END
    if not re.fullmatch(r"[a-z0-9_]+", block):
        raise ValueError(f"block name {block!r}: use lower-case letters, digits and '_' (e.g. 'gpu').")
    return (f"<!-- replication-{block}:begin (humal-nb replication GRID_DIR --docs FILE --block {block}) -->",
            f"<!-- replication-{block}:end -->")


def block_markdown(grid_dir: str | Path, paired_with: str | Path | None = None) -> str:
    """The README block of a record: `markdown` for a record of strategies, `controls.markdown`
    for a record of control arms (paired with `paired_with`, default the sibling `table3`), and
    for the records' folder itself (`outputs/replication`) the section "When are people's
    rationales worth paying for?" (`worth.markdown`)."""
    grid_dir = Path(grid_dir)
    if not (grid_dir / SUMMARY_FILE).is_file() and (grid_dir / "table3").is_dir() and (grid_dir / "controls").is_dir():
        return worth.markdown(grid_dir)  # the records folder: "When are people's rationales worth paying for?"
    if not set(ARM_KEYS) & set(report.read_summary(grid_dir).columns):
        return markdown(grid_dir)
    return controls.markdown(grid_dir, paired_with or grid_dir.parent / "table3")


def update_readme(
    readme: str | Path, grid_dir: str | Path, block: str = "", paired_with: str | Path | None = None
) -> None:
    """Replace the README's replication block (`markers(block)`) with `block_markdown(grid_dir)`;
    for the main record (no `block`) also the position curves' block (POSITIONS_BEGIN ... END)
    when cells' `attention.json` are at hand (they are not committed: elsewhere that block keeps
    what it last showed)."""
    path = Path(readme)
    begin, end = markers(block)
    text = _replace_block(path.read_text(), begin, end, block_markdown(grid_dir, paired_with), path)
    positions = None if block else position_markdown(grid_dir)
    if positions is not None:
        text = _replace_block(text, POSITIONS_BEGIN, POSITIONS_END, positions, path)
    runs.atomic_write_text(path, text)


__all__ = ["block_markdown", "markers", "update_readme"]
