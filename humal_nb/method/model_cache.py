"""What a finished run's saved model computed, kept in the run folder so it is computed once.

Two files sit beside the run's `model/`:

- `faithfulness_cache.json`: P(1) of every reduced review the faithfulness tables ran
  (`faithfulness.ModelPredictor`);
- `readings_cache.json`: every test review's first-layer, last-layer and rollout word
  attention (`model_attention.readings`, the explorer's rollout table).

Each holds `{"key": ..., "about": ..., "entries": {text key: value}}`. The key is a digest
of everything that changes a value (`cache_fields`): the model's files (a digest of their
bytes; the model card `README.md` is left out, as it changes nothing the model computes and is
rewritten by every run, so a retrained model with the same weights reads its caches), the run's max_length, the device type and the effective precision
(`inference.effective_precision`: `auto` is stored as what it ran in), and the file's format
version; `about` holds those fields in words (`stored_fields`), e.g. for `humal-nb tables` to
read the precision that `humal-nb compare` ran in. A file with another key is not read
(and is replaced when written); a file that cannot be read counts as empty. Files are
written whole and atomically (`runs.atomic_write_text`), once per job; a read-only run
folder is left as it is.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from humal_nb.config import runs

FORMAT = 1  # bump when what an entry holds changes
NOT_COMPUTING = frozenset({"README.md"})  # files of model/ that change no value (the model card)


def _stamp(model_dir: Path) -> tuple[tuple[str, int, int], ...]:
    return tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(model_dir.iterdir())
                 if p.is_file() and p.name not in NOT_COMPUTING)


@functools.lru_cache(maxsize=8)
def _digest(model_dir: str, stamp: tuple) -> str:
    digest = hashlib.sha256()
    for name, _, _ in stamp:
        digest.update(name.encode())
        with (Path(model_dir) / name).open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def model_digest(model_dir: str | Path) -> str:
    """SHA-256 of a saved model's files (names and bytes; the model card is left out); computed once
    per process until they change."""
    folder = Path(model_dir).resolve()
    return _digest(str(folder), _stamp(folder))


def cache_fields(model_dir: str | Path, kind: str, max_length: int, device: str, precision: str) -> dict[str, Any]:
    """What one cache file's values depend on: `kind` (which file), the format version, the model's
    digest, max_length, the device type and the effective precision ("fp32" or "bf16")."""
    return {"kind": kind, "format": FORMAT, "model": model_digest(model_dir), "max_length": int(max_length),
            "device": str(device), "precision": str(precision)}


def cache_key(model_dir: str | Path, kind: str, max_length: int, device: str, precision: str) -> str:
    """The key of one cache file: a digest of `cache_fields`."""
    fields = cache_fields(model_dir, kind, max_length, device, precision)
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def stored_fields(path: str | Path) -> dict[str, Any]:
    """The `cache_fields` a cache file was written for; {} for a missing or unreadable file."""
    try:
        stored = runs.read_json(path)
    except (OSError, ValueError):
        return {}
    about = stored.get("about") if isinstance(stored, dict) else None
    return dict(about) if isinstance(about, dict) else {}


def text_key(words: Sequence[str]) -> str:
    """A text's entry name: the SHA-1 of its word list."""
    return hashlib.sha1(json.dumps(list(words), ensure_ascii=False).encode()).hexdigest()


class KeyedCache:
    """One cache file of a run folder: `entries` valid for `key` (`about`: its fields in words,
    written beside it); `path` None keeps it in memory only."""

    def __init__(self, path: Path | None, key: str, about: dict[str, Any] | None = None) -> None:
        self.path = path
        self.key = key
        self.about = dict(about or {})
        self.entries: dict[str, Any] = self._read()
        self.writes = 0  # times the file was written in this process

    def _read(self) -> dict[str, Any]:
        if self.path is None or not self.path.is_file():
            return {}
        try:
            stored = runs.read_json(self.path)
        except (OSError, ValueError):
            return {}
        if not isinstance(stored, dict) or stored.get("key") != self.key or not isinstance(stored.get("entries"), dict):
            return {}
        return dict(stored["entries"])

    def missing(self, keys: Sequence[str]) -> list[int]:
        """Positions of the keys that have no entry."""
        return [i for i, key in enumerate(keys) if key not in self.entries]

    def save(self) -> None:
        """Write every entry (atomically, compact JSON); a read-only run folder is left as it is."""
        if self.path is None:
            return
        try:
            runs.atomic_write_text(self.path, json.dumps({"key": self.key, "about": self.about, "entries": self.entries},
                                                         separators=(",", ":")))
            self.writes += 1
        except OSError:
            pass


__all__ = ["FORMAT", "KeyedCache", "cache_fields", "cache_key", "model_digest", "stored_fields", "text_key"]
