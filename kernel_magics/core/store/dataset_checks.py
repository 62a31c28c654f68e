"""The quality checks a dataset carries and each version's latest result (issue 14).

What the checks are and how they run is :mod:`kernel_magics.core.data.quality`; this module
keeps them: one set of checks per dataset (replaced by a new ``mlops datasets check``), one
result per version (replaced when the version is checked again).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select

from ...errors import DatasetNotFoundError
from .db import Database
from .schema import datasets
from .schema_quality import dataset_check_results, dataset_checks
from .upsert import upsert


@dataclass(frozen=True)
class DatasetChecks:
    """The checks of one dataset.

    ``kind`` (inferred, pandera), ``spec`` (decoded JSON), ``on_fail`` (warn, fail) and the
    version id the expectations were inferred from.
    """

    dataset: str
    kind: str
    spec: Any
    on_fail: str
    inferred_from: int | None
    updated_at: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return asdict(self)


@dataclass(frozen=True)
class CheckResult:
    """The latest result of the checks on one version.

    Attributes
    ----------
    version_id : int
    kind : str
    passed : bool
    failures : list of dict
        ``{"check", "column", "message"}`` each, in check order.
    on_fail : str
        What the failure did: ``warn`` or ``fail``.
    run_id : str or None
        The run that logged the version when it was checked.
    checked_at : float
    """

    version_id: int
    kind: str
    passed: bool
    failures: list[dict[str, Any]]
    on_fail: str
    run_id: str | None
    checked_at: float

    @property
    def status(self) -> str:
        """``passed``, ``failed`` (on_fail fail) or ``warned`` (failed with on_fail warn)."""
        if self.passed:
            return "passed"
        return "failed" if self.on_fail == "fail" else "warned"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, with the status spelled out."""
        return {**asdict(self), "status": self.status}


class DatasetCheckRepository:
    """Datasets' quality checks and versions' check results."""

    def __init__(self, db: Database):
        self.db = db

    def set_checks(
        self, dataset: str, kind: str, spec: Any, on_fail: str, inferred_from: int | None = None
    ) -> DatasetChecks:
        """Give ``dataset`` these checks (replacing any it had).

        Raises
        ------
        DatasetNotFoundError
            When no dataset has that name.
        """
        now = time.time()
        with self.db.write() as conn:
            dataset_id = self._dataset_id(conn, dataset)
            row = {"dataset_id": dataset_id, "kind": kind, "spec": json.dumps(spec),
                   "on_fail": on_fail, "inferred_from": inferred_from, "created_at": now,
                   "updated_at": now}  # fmt: skip
            upsert(conn, dataset_checks, [row], ["dataset_id"],
                   ["kind", "spec", "on_fail", "inferred_from", "updated_at"])  # fmt: skip
        return DatasetChecks(dataset, kind, spec, on_fail, inferred_from, now)

    @staticmethod
    def _dataset_id(conn: Any, dataset: str) -> int:
        found = conn.execute(select(datasets.c.id).where(datasets.c.name == dataset)).scalar()
        if found is None:
            raise DatasetNotFoundError(
                f"No dataset is named {dataset!r}; log a version first (mlops.log_dataset) or "
                "check `mlops datasets ls`."
            )
        return int(found)

    def get_checks(self, dataset: str) -> DatasetChecks | None:
        """The dataset's checks, or None when it has none (or does not exist)."""
        query = (
            select(dataset_checks)
            .join(datasets, datasets.c.id == dataset_checks.c.dataset_id)
            .where(datasets.c.name == dataset)
        )
        with self.db.read() as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            return None
        return DatasetChecks(dataset, row["kind"], json.loads(row["spec"]), row["on_fail"],
                             row["inferred_from"], row["updated_at"])  # fmt: skip

    def record_result(
        self,
        version_id: int,
        kind: str,
        failures: list[dict[str, Any]],
        on_fail: str,
        run_id: str | None,
    ) -> CheckResult:
        """Record the result of checking one version (replacing an earlier result)."""
        now = time.time()
        row = {"dataset_version_id": version_id, "kind": kind, "passed": int(not failures),
               "failures": json.dumps(failures), "on_fail": on_fail, "run_id": run_id,
               "checked_at": now}  # fmt: skip
        with self.db.write() as conn:
            upsert(conn, dataset_check_results, [row], ["dataset_version_id"],
                   ["kind", "passed", "failures", "on_fail", "run_id", "checked_at"])  # fmt: skip
        return CheckResult(version_id, kind, not failures, failures, on_fail, run_id, now)

    def results(self, version_ids: Iterable[int]) -> dict[int, CheckResult]:
        """The latest result of each of these versions that was checked, by version id."""
        ids = list(version_ids)
        if not ids:
            return {}
        query = select(dataset_check_results).where(
            dataset_check_results.c.dataset_version_id.in_(ids)
        )
        with self.db.read() as conn:
            rows = conn.execute(query).mappings().all()
        return {
            r["dataset_version_id"]: CheckResult(
                r["dataset_version_id"], r["kind"], bool(r["passed"]), json.loads(r["failures"]),
                r["on_fail"], r["run_id"], r["checked_at"],
            )
            for r in rows
        }  # fmt: skip
