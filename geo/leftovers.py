"""Files built beside their target, and what a killed build leaves there.

A store, a map or an export is built under a hidden name beside its target and
renamed into place, so a reader never sees half a file. The hidden name holds
the builder's process id: a build that was killed (``kill -9``, a power cut)
leaves its file or folder behind, and the next build of the same target
removes it, and says so, once no process of that id runs.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from pathlib import Path

__all__ = ["building_prefix", "sweep_leftovers"]

_log = logging.getLogger(__name__)


def building_prefix(target: Path) -> str:
    """Return the hidden name's start for a build of ``target`` by this process."""
    return f".{target.name}.{os.getpid()}."


def _is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it runs
        return True
    return True


def sweep_leftovers(target: Path) -> list[Path]:
    """Remove what killed builds of ``target`` left beside it; return what was removed.

    Only names this module makes are touched (``.NAME.PID.…``, and SQLite's
    journal of such a file), and only where no process ``PID`` runs.
    """
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.(\d+)\.")
    removed = []
    try:
        siblings = list(target.parent.iterdir())
    except OSError:
        return []
    for sibling in siblings:
        found = pattern.match(sibling.name)
        if found is None or _is_running(int(found.group(1))):
            continue
        if sibling.is_dir() and not sibling.is_symlink():
            shutil.rmtree(sibling, ignore_errors=True)
        else:
            sibling.unlink(missing_ok=True)
        removed.append(sibling)
    if removed:
        _log.warning(
            "%s: removed what a build that was stopped left beside it: %s",
            target,
            ", ".join(p.name for p in removed),
        )
    return removed
