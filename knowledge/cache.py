"""Our own pickle files under CAREERBOT_DATA_DIR/cache: parsed models and tables that are slow to build.

Only careerbot writes there; a missing, bad or stale file is ignored (and rebuilt by the caller), and a read-only
data dir just means no cache.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any


def read_pickle(path: Path | None) -> Any:
    """The object pickled at ``path``, else None."""
    if path is None or not path.is_file():
        return None
    try:
        with path.open("rb") as fh:
            return pickle.load(fh)  # noqa: S301 - our own file in our data dir
    except Exception:
        return None


def write_pickle(path: Path, obj: Any) -> None:
    """Write ``obj`` to ``path`` atomically (a reader never sees half a file); failures are ignored."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as fh:
            pickle.dump(obj, fh, protocol=5)
        os.replace(tmp, path)
    except Exception:
        pass
