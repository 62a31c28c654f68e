"""What ``mlops test`` found: one :class:`ModelCheck` per check, gathered in a report.

A :class:`ModelTestReport` is what :func:`~.runner.run_model_tests` returns and what the store
keeps per model version (``store.model_tests``): the CLI renders :attr:`ModelTestReport.rows`,
a CI job writes :meth:`~ModelTestReport.to_junit` and posts :meth:`~ModelTestReport.to_markdown`
on the pull request, and ``mlops promote --require-tests`` reads the last stored report.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..views.table import Table

# -- check kinds: each check of a report is one of these ---------------------------------------
PERFORMANCE = "performance"  # a metric on a holdout dataset version meets a condition
SIGNATURE = "signature"  # the inputs stay compatible with what the alias serves now
LATENCY = "latency"  # single-row predictions on the stored example fit a budget
INVARIANCE = "invariance"  # changing a column does not change the prediction
DIRECTIONAL = "directional"  # changing a column moves the score only the expected way
CASE = "case"  # a given input gets the expected label (minimum functionality)
CHECK_KINDS = (PERFORMANCE, SIGNATURE, LATENCY, INVARIANCE, DIRECTIONAL, CASE)

# -- outcomes (the CLI colours ``pass`` green and ``FAIL`` red, as for the promotion gate) --------
PASS = "pass"
FAIL = "FAIL"
SKIP = "skip"  # nothing to check against (e.g. no version serves the alias yet)
OUTCOMES = (PASS, FAIL, SKIP)


@dataclass
class ModelCheck:
    """The outcome of one check.

    Attributes
    ----------
    kind : str
        One of :data:`CHECK_KINDS`.
    name : str
        What was checked, as a user reads it (``accuracy >= 0.85``, ``tenure up: churn down``).
    outcome : str
        One of :data:`OUTCOMES`.
    measured : str
        The value found (``0.912``, ``p95 1.8 ms``, ``3 of 40 rows changed``).
    expected : str
        What the check asked for (``>= 0.85``, ``<= 20 ms``).
    detail : str
        Why it failed (or was skipped), naming the rows or columns involved.
    duration_s : float
        Seconds the check took.
    """

    kind: str
    name: str
    outcome: str
    measured: str = ""
    expected: str = ""
    detail: str = ""
    duration_s: float = 0.0

    @property
    def passed(self) -> bool:
        """True unless the check failed (a skipped check does not fail a report)."""
        return self.outcome != FAIL


@dataclass
class ModelTestReport:
    """Every check run on one model version.

    Attributes
    ----------
    model : str
        The registered model's name.
    version : int
        The tested version.
    checks : list of ModelCheck
        In the order they ran.
    started_at : float
        UTC epoch seconds.
    duration_s : float
        Seconds the whole test took.
    options : dict
        What was asked for (holdout, conditions, test file, latency budget, alias), for the record.
    id : int or None
        The stored report's id, once ``store.model_tests`` recorded it.
    """

    model: str
    version: int
    checks: list[ModelCheck] = field(default_factory=list)
    started_at: float = 0.0
    duration_s: float = 0.0
    options: dict[str, Any] = field(default_factory=dict)
    id: int | None = None

    @property
    def ref(self) -> str:
        """``name/version``."""
        return f"{self.model}/{self.version}"

    @property
    def passed(self) -> bool:
        """True when no check failed and at least one check ran."""
        return bool(self.checks) and all(c.passed for c in self.checks)

    @property
    def failures(self) -> list[ModelCheck]:
        """The failed checks."""
        return [c for c in self.checks if c.outcome == FAIL]

    def counts(self) -> dict[str, int]:
        """How many checks passed, failed and were skipped."""
        out = dict.fromkeys(OUTCOMES, 0)
        for check in self.checks:
            out[check.outcome] += 1
        return out

    @property
    def rows(self) -> Table:
        """The pass/fail table (built once in :mod:`kernel_magics.core.views.model_tests`)."""
        from ..views.model_tests import model_test_table

        return model_test_table(self)

    def to_junit(self) -> str:
        """The report as JUnit XML (one testsuite, one testcase per check)."""
        from .junit import report_to_junit

        return report_to_junit(self)

    def to_markdown(self) -> str:
        """A Markdown summary for a pull-request comment (see :mod:`.markdown`)."""
        from .markdown import report_to_markdown

        return report_to_markdown(self)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dictionary (with ``passed`` and ``counts``)."""
        data = asdict(self)
        data["ref"] = self.ref
        data["passed"] = self.passed
        data["counts"] = self.counts()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelTestReport:
        """Rebuild a report from :meth:`to_dict` output (the store keeps it that way)."""
        checks = [
            ModelCheck(**{k: c[k] for k in ModelCheck.__dataclass_fields__ if k in c})
            for c in data.get("checks", [])
        ]
        return cls(
            model=data["model"],
            version=int(data["version"]),
            checks=checks,
            started_at=float(data.get("started_at") or 0.0),
            duration_s=float(data.get("duration_s") or 0.0),
            options=dict(data.get("options") or {}),
            id=data.get("id"),
        )
