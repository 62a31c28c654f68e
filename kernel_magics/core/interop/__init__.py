"""Moving runs and models between jupyter-mlops and other trackers (MLflow, issue 16).

:func:`import_mlflow` reads an MLflow store through MLflow's own client and writes it into ours
through the :class:`~kernel_magics.core.store.Store` repositories; :func:`export_mlflow` does
the reverse. MLflow is imported only inside these functions (the ``mlflow`` extra).
"""

from __future__ import annotations

from .mlflow_export import ExportOptions, ExportSummary, export_mlflow
from .mlflow_import import ImportOptions, ImportSummary, import_mlflow
from .progress import NullProgress, Progress

__all__ = [
    "ExportOptions",
    "ExportSummary",
    "ImportOptions",
    "ImportSummary",
    "NullProgress",
    "Progress",
    "export_mlflow",
    "import_mlflow",
]
