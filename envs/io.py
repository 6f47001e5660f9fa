"""Atomic file output: a reader (or a rerun after a kill) never sees a half-written result."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import pandas as pd


def write_atomic(path: str | os.PathLike, write: Callable[[IO], None], binary: bool = False) -> None:
    """Call ``write(stream)`` on a temporary file beside ``path``, then rename it onto ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb" if binary else "w") as stream:
            write(stream)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_csv_atomic(frame: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write ``frame`` (without index) to ``path`` atomically."""
    write_atomic(path, lambda stream: frame.to_csv(stream, index=False))


def write_json_atomic(data: Any, path: str | os.PathLike) -> None:
    """Write ``data`` as indented JSON to ``path`` atomically."""
    write_atomic(path, lambda stream: json.dump(data, stream, indent=2, default=str))
