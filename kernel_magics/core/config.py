"""Where the store lives, and why.

Resolution order (the first that applies wins):

1. ``MLOPS_STORE_URI`` (any SQLAlchemy URL) and/or ``MLOPS_HOME`` (a folder) from the environment;
2. the nearest ``.mlops/`` folder walking up from the working directory;
3. a new ``.mlops/`` at the root of the enclosing git repository;
4. a new ``.mlops/`` in the working directory.

Artifacts go to ``MLOPS_ARTIFACTS_URI`` (any fsspec URL, such as ``s3://bucket/prefix``) or to
``<home>/artifacts``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

STORE_DIRNAME = ".mlops"
DB_FILENAME = "mlops.db"


@dataclass(frozen=True)
class StoreLocation:
    """A resolved store: the database URL, the artifact root and the reason they were chosen.

    Attributes
    ----------
    store_uri : str
        SQLAlchemy URL of the metadata database.
    artifacts_uri : str
        fsspec URL (or local path) of the content-addressed artifact store.
    home : Path or None
        The local ``.mlops`` folder, when there is one (SQLite stores, local artifacts, logs).
    reason : str
        One human sentence saying why this location was chosen (``mlops info`` prints it).
    """

    store_uri: str
    artifacts_uri: str
    home: Path | None
    reason: str

    @property
    def is_sqlite(self) -> bool:
        """Whether the metadata database is an embedded SQLite file."""
        return self.store_uri.startswith("sqlite")


def _find_upwards(start: Path, name: str) -> Path | None:
    for folder in (start, *start.parents):
        candidate = folder / name
        if candidate.exists():
            return candidate
    return None


def resolve_location(
    cwd: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None
) -> StoreLocation:
    """Work out where the store lives without creating anything.

    Parameters
    ----------
    cwd : path-like, optional
        Folder to start from; the process's working directory by default.
    environ : mapping, optional
        Environment to read ``MLOPS_*`` variables from; ``os.environ`` by default.

    Returns
    -------
    StoreLocation
        The database URL, the artifact root and the reason.
    """
    env = os.environ if environ is None else environ
    start = Path(cwd or os.getcwd()).resolve()
    store_uri = env.get("MLOPS_STORE_URI") or None
    home_env = env.get("MLOPS_HOME") or None

    if home_env:
        home: Path | None = Path(home_env).expanduser().resolve()
        reason = "MLOPS_HOME is set"
    elif store_uri:
        home = None
        reason = "MLOPS_STORE_URI is set"
    else:
        found = _find_upwards(start, STORE_DIRNAME)
        if found is not None and found.is_dir():
            home, reason = found, f"nearest {STORE_DIRNAME}/ above {start}"
        else:
            git = _find_upwards(start, ".git")
            if git is not None:
                home = git.parent / STORE_DIRNAME
                reason = f"new {STORE_DIRNAME}/ at the git root {git.parent}"
            else:
                home = start / STORE_DIRNAME
                reason = f"new {STORE_DIRNAME}/ in the working directory (not inside a git repo)"

    if store_uri:
        if home_env:
            reason = "MLOPS_STORE_URI and MLOPS_HOME are set"
        elif store_uri.startswith("sqlite:///") and len(store_uri) > len("sqlite:///"):
            # A SQLite file's folder is the store's home: its artifacts live next to it, so
            # every working directory that uses this database sees the same blobs.
            # A SQLite URI filename (file:/path/mlops.db?mode=ro&uri=true) names the same file.
            path = store_uri.removeprefix("sqlite:///").removeprefix("file:").split("?", 1)[0]
            home = Path(path).expanduser().resolve().parent
    else:
        assert home is not None
        store_uri = f"sqlite:///{home / DB_FILENAME}"

    artifacts_uri = env.get("MLOPS_ARTIFACTS_URI") or None
    if artifacts_uri is None:
        if home is None:
            # A server database with no artifact location: keep blobs next to the working
            # directory's store so a single user still works; teams set MLOPS_ARTIFACTS_URI.
            home = (_find_upwards(start, STORE_DIRNAME) or start / STORE_DIRNAME).resolve()
        artifacts_uri = str(home / "artifacts")
    return StoreLocation(store_uri=store_uri, artifacts_uri=artifacts_uri, home=home, reason=reason)
