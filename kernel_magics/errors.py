"""Every error jupyter-mlops raises on purpose.

All of them derive from :class:`KernelMagicsError`, so ``except KernelMagicsError`` catches
exactly the problems we diagnosed, and each message names the problem and the fix.
"""

from __future__ import annotations


class KernelMagicsError(Exception):
    """Root of every error raised on purpose by jupyter-mlops."""


class StoreError(KernelMagicsError):
    """Raised when the store cannot be opened, located or migrated."""


class NetworkFilesystemError(StoreError):
    """Raised when a SQLite store would live on a network filesystem (nfs, cifs, sshfs...)."""


class BlobIntegrityError(StoreError):
    """Raised when a blob's content does not match its recorded hash (never used then)."""


class BlobNotFoundError(StoreError):
    """Raised when a blob referenced by the store is missing from the artifact store."""


class NotFoundError(KernelMagicsError):
    """Raised when a named thing (run, experiment, model, schedule...) does not exist."""


class RunNotFoundError(NotFoundError):
    """Raised when a run id matches no run."""


class ExperimentNotFoundError(NotFoundError):
    """Raised when an experiment name matches no experiment."""


class ArtifactNotFoundError(NotFoundError):
    """Raised when a run has no artifact at the requested path."""


class DatasetNotFoundError(NotFoundError):
    """Raised when no dataset or dataset version matches a name, number or hash prefix."""


class DataQualityError(KernelMagicsError):
    """Raised when a logged dataset version fails its quality checks with on_fail='fail'."""


class ConflictError(KernelMagicsError):
    """Raised when a change conflicts with the current state (e.g. ending a finished run)."""


class ValidationError(KernelMagicsError, ValueError):
    """Raised when user input is malformed; the message names the input and the fix."""


class InvalidMetricError(ValidationError):
    """Raised when a metric value is not a finite number or its key is not a string."""


class InvalidParamError(ValidationError):
    """Raised when a parameter or tag key/value cannot be stored."""


class FilterSyntaxError(ValidationError):
    """Raised when a run filter or order-by expression cannot be parsed (with the position)."""

    def __init__(self, message: str, expression: str = "", position: int | None = None):
        self.expression = expression
        self.position = position
        if position is not None and expression:
            pointer = " " * position + "^"
            message = f"{message}\n  {expression}\n  {pointer}"
        super().__init__(message)


class NoActiveRunError(KernelMagicsError):
    """Raised when a logging call needs an active run and none was started."""


class FileMissingError(ValidationError, FileNotFoundError):
    """Raised when a file or directory given to a logging call does not exist."""


class InvalidScheduleError(ValidationError):
    """Raised when a schedule's cron expression, timezone, policy or options are malformed."""


class ScheduleNotFoundError(NotFoundError):
    """Raised when a schedule name or id matches no schedule."""


class InvalidAlertError(ValidationError):
    """Raised when an alert rule's condition, window or notification channel is malformed."""


class AlertNotFoundError(NotFoundError):
    """Raised when an alert rule name matches no rule."""


class NotebookFormatError(ValidationError):
    """Raised when a notebook file is not valid notebook JSON (or not a notebook at all)."""


class ParametersCellError(ValidationError):
    """Raised when parameters are given but the notebook has no usable ``parameters`` cell."""


class UnknownParameterError(ValidationError):
    """Raised when a run is given a parameter its notebook's ``parameters`` cell does not define."""


class ParameterTypeError(ValidationError):
    """Raised when a parameter value cannot be converted to the type of the notebook's default."""


class KernelNotFoundError(ValidationError):
    """Raised when a notebook names (or the user asks for) a kernel that is not installed."""


class ExecutorError(KernelMagicsError):
    """Raised when a run executor (such as a Dask cluster) cannot be reached or used."""


class PluginNotFoundError(ValidationError):
    """Raised when an executor or serving backend is asked for by a name nobody registered."""


# --- model registry and serving (issue 6) -------------------------------------------------


class ModelNotFoundError(NotFoundError):
    """Raised when a model name, version (``churn/3``) or alias (``churn@prod``) is unknown."""


class UnsafeModelError(ValidationError):
    """Raised when loading or logging a model would run pickle without ``allow_pickle=True``."""


class UntrustedTypesError(ValidationError):
    """Raised when a skops model file holds types that are neither default-trusted nor listed."""


class ModelLoadError(KernelMagicsError):
    """Raised when a stored model cannot be deserialized or fails its smoke prediction."""


class DeploymentError(KernelMagicsError):
    """Raised when a model server fails to start, to become healthy or to stop."""


class DeploymentNotFoundError(NotFoundError):
    """Raised when a deployment id (or model name) matches no deployment."""


class MissingExtraError(KernelMagicsError, ImportError):
    """Raised when a feature needs an optional extra (``jupyter-mlops[serve]``...) not installed."""


class RunStillRunningError(ConflictError):
    """Raised when deleting a run whose process is still alive, without ``force``."""


class NotebookVersionNotFoundError(NotFoundError):
    """Raised when a notebook version id matches no stored version."""


# --- automations (issue 15) ---------------------------------------------------------------


class InvalidAutomationError(ValidationError):
    """Raised when an automation's name, trigger, steps or options are malformed."""


class AutomationNotFoundError(NotFoundError):
    """Raised when an automation name matches no automation."""


# --- challengers and guards (issue 15) -------------------------------------------------------


class ChallengerNotFoundError(NotFoundError):
    """Raised when no challenger matches an id, or a deployment has no active challenger."""


class InvalidGuardError(ValidationError):
    """Raised when a guard condition, its period or a challenger's mode or share is malformed."""
