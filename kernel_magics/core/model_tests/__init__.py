"""Model tests, the CI part of CI/CD: ``mlops test`` and an automation's ``test`` step.

``mlops promote --require-tests`` reads the last report stored with a version.

``run_model_tests(store, "churn/7", holdout="holdout@2", conditions=["accuracy >= 0.85"],
test_file="tests.yaml", latency_budget_ms=20)`` runs every check on the version and records the
:class:`ModelTestReport` with it (``store.model_tests``). See :mod:`.testfile` for the YAML.
"""

from __future__ import annotations

from ..lazy import lazy_getattr

_LAZY = {
    "run_model_tests": ".runner",
    "ModelTestReport": ".report",
    "ModelCheck": ".report",
    "load_test_file": ".testfile",
    "TestFile": ".testfile",
}

__all__ = sorted(_LAZY)

# Lazy: the CLI imports this package to register the command without loading pandas.
__getattr__ = lazy_getattr(__name__, _LAZY)
