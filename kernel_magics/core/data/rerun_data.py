"""Give a rerun the exact dataset versions the original run read.

For every file or folder the original run logged as an input whose content has changed since,
the stored version is restored (into the store's cache) and the rerun's kernel starts in an
*overlay* of its working folder: a temporary folder whose entries are symlinks to the real
ones, except the changed datasets, which point at the restored versions. The notebook opens
``data.csv`` as it always did and reads the original bytes; the user's files are never
overwritten. Datasets outside the working folder cannot be swapped this way and are reported.
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...errors import KernelMagicsError
from ..names import DATASET_FILE, DATASET_FOLDER, DATASET_REF
from .describe import describe_dataset
from .loading import cache_root, restore

if TYPE_CHECKING:
    from ..store import Store

RESTORED = "restored"
UNCHANGED = "unchanged"
CURRENT = "current"  # --with-current-data: changed, and today's content used
NOT_RESTORED = "not restored"


@dataclass
class DataRestore:
    """What a rerun did about one dataset the original run read.

    Attributes
    ----------
    name : str
        The dataset's name.
    version : str
        The version the original read (``train@3``).
    source : str
        Where it was read from.
    action : str
        ``restored``, ``unchanged``, ``current`` (changed; today's content used) or
        ``not restored`` (see ``note``).
    note : str
        One sentence for people.
    """

    name: str
    version: str
    source: str
    action: str
    note: str


def _current_hash(source: Path) -> str | None:
    try:
        return describe_dataset(source).hash if source.exists() else None
    except KernelMagicsError:
        return None


def plan_restores(
    store: Store, datasets: list[dict[str, Any]], workdir: Path, with_current_data: bool
) -> tuple[list[DataRestore], dict[Path, Path]]:
    """Decide, for each input dataset of the original run, whether to restore it.

    Returns
    -------
    (list of DataRestore, dict)
        The decisions, and ``{original source path: restored path}`` for the overlay.
    """
    decisions: list[DataRestore] = []
    swaps: dict[Path, Path] = {}
    base = workdir.resolve()
    for used in datasets:
        if used.get("role") != "input" or not used.get("source"):
            continue
        record = store.dataset_versions.get(used["version_id"])
        source = Path(used["source"])
        if record.kind not in (DATASET_FILE, DATASET_FOLDER, DATASET_REF) or (
            not source.is_absolute()
        ):
            continue  # a DataFrame: the notebook builds it again from its own inputs
        if _current_hash(source) == record.hash:
            decisions.append(DataRestore(record.dataset, record.ref, str(source), UNCHANGED,
                                         "Same content as the original run read."))  # fmt: skip
            continue
        if with_current_data:
            note = (f"Changed since the original run read {record.ref}; today's content was "
                    "used (--with-current-data).")  # fmt: skip
            decisions.append(DataRestore(record.dataset, record.ref, str(source), CURRENT, note))
            continue
        if not record.stored:
            note = (f"Changed since the original run, but {record.ref} was recorded by "
                    "reference only (store=False), so it cannot be restored; today's content "
                    "was used.")  # fmt: skip
        elif not source.is_relative_to(base):
            note = (f"Changed since the original run, but {source} is outside the working folder "
                    f"{base}, so the rerun cannot be given {record.ref}; today's content was "
                    "used.")  # fmt: skip
        else:
            swaps[source] = restore(store, record)
            decisions.append(DataRestore(record.dataset, record.ref, str(source), RESTORED,
                                         f"Changed since the original run; {record.ref} was "
                                         "restored for the rerun."))  # fmt: skip
            continue
        decisions.append(DataRestore(record.dataset, record.ref, str(source), NOT_RESTORED, note))
    return decisions, swaps


def _fill(real: Path, overlay: Path, swaps: dict[tuple[str, ...], Path]) -> None:
    overlay.mkdir(parents=True, exist_ok=True)
    heads: dict[str, dict[tuple[str, ...], Path]] = {}
    for parts, target in swaps.items():
        heads.setdefault(parts[0], {})[parts[1:]] = target
    if real.is_dir():
        for entry in os.scandir(real):
            if entry.name not in heads:
                os.symlink(entry.path, overlay / entry.name)
    for head, rest in heads.items():
        if () in rest:  # this entry itself is a restored dataset
            os.symlink(rest[()], overlay / head)
        else:
            _fill(real / head, overlay / head, rest)


def build_overlay(store: Store, workdir: Path, swaps: dict[Path, Path]) -> Path:
    """Make the overlay of ``workdir`` with ``swaps`` applied; return its path.

    Remove it with :func:`remove_overlay` once the rerun finished.
    """
    base = workdir.resolve()
    overlay = cache_root(store).parent / "reruns" / uuid.uuid4().hex
    relative = {source.relative_to(base).parts: target for source, target in swaps.items()}
    _fill(base, overlay, relative)
    return overlay


def remove_overlay(overlay: Path) -> None:
    """Delete an overlay: its symlinks and folders, never what they point at."""
    shutil.rmtree(overlay, ignore_errors=True)
