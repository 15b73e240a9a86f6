"""Where compiled templates are kept between runs: jinja2's bytecode cache in the user's cache folder.

Compiling the report templates costs every process about as much as analysing a 1000-row job; the cache
makes that a once-per-template-version cost. It holds only compiled template code, never data; a folder
that cannot be made or written means no cache, never an error.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from jinja2 import BytecodeCache, FileSystemBytecodeCache


def cache_folder(environment: str) -> Path:
    """`$XDG_CACHE_HOME/claret-errors/templates/<environment>`, else under `~/.cache`."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "claret-errors" / "templates" / environment


@cache
def bytecode_cache(environment: str) -> BytecodeCache | None:
    """The cache of one environment. jinja2 keys entries by template name and source, its own version and
    Python's, but not by the environment's options (autoescape among them): each environment has a folder
    of its own. None where the folder cannot be made (a read-only home)."""
    folder = cache_folder(environment)
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except (OSError, RuntimeError):  # RuntimeError: no home folder to expand
        return None
    if not os.access(folder, os.W_OK | os.X_OK):
        return None
    return FileSystemBytecodeCache(str(folder))
