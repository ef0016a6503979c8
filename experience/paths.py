"""Where the program keeps its files: the cache (rebuildable) and default outputs."""

from __future__ import annotations

import os
from pathlib import Path

APP = "handshake-in-orbit"


def cache_dir() -> Path:
    """$ASTP_CACHE_DIR, else $XDG_CACHE_HOME/handshake-in-orbit, else ~/.cache/handshake-in-orbit."""
    override = os.environ.get("ASTP_CACHE_DIR")
    if override:
        return Path(override)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / APP


def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]
