"""scikit-learn autologging for ``%%mlops track --autolog``, with no change to the user's code.

While active, the ``fit``, ``fit_transform`` and ``fit_predict`` methods of every scikit-learn
estimator class (those :func:`sklearn.utils.all_estimators` lists plus any already-imported
subclass of ``BaseEstimator``, such as the user's own) are wrapped. Each fit the user's code
calls directly records, under the prefix ``<ClassName>`` (``<ClassName>_2`` for the second fit
of that class...), MLflow's autolog names:

* params ``<prefix>.<name>`` from ``get_params(deep=False)``; a callable is stored by its
  qualified name (``mymodule.shift``), and a repr holding a memory address loses the address,
  so a deterministic rerun stores the same params;
* metrics ``<prefix>.fit_time_s`` (wall-clock: :func:`core.names.is_timing` is true for it, so
  rerun comparisons allow for it) and, when ``fit`` got ``y`` and the estimator has ``score``,
  ``<prefix>.training_score``;
* for a parameter search (``GridSearchCV``, ``RandomizedSearchCV``, ...): params
  ``<prefix>.best_<name>`` from ``best_params_``, the metric ``<prefix>.best_cv_score`` from
  ``best_score_``, the artifact ``models/<prefix>.cv_results.csv`` from ``cv_results_`` and
  the refitted best model as ``models/<prefix>.best_estimator.skops`` (it loads without the
  search's own callables, such as a ``refit`` function defined in the notebook);
* the fitted model as the artifact ``models/<prefix>.skops`` (skops, never pickle).

Fits made inside another scikit-learn call are not logged: a Pipeline's steps, a search's
candidates, the folds of ``cross_val_score``, the ``LabelEncoder`` that ``precision_score`` fits.
Each part of a fit is logged on its own, so one that fails (a score a search cannot compute)
costs only that part, with a warning saying why.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
import threading
import time
from typing import Any

#: At most this many fits are logged per cell (a loop of 10,000 fits would flood the run).
MAX_FITS = 20
#: The methods that fit an estimator, as MLflow's autolog patches them.
FIT_METHODS = ("fit", "fit_transform", "fit_predict")
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


class SklearnAutolog:
    """Patch scikit-learn's fit methods to log into ``run`` until :meth:`stop`.

    Parameters
    ----------
    run : Run
        The run to log into.
    """

    def __init__(self, run: Any):
        self.run = run
        self.warnings: list[str] = []
        self.fits = 0
        self._patched: list[tuple[type, str, Any]] = []
        self._depth = 0
        self._counts: dict[str, int] = {}

    def start(self) -> None:
        """Wrap the fit methods."""
        from sklearn.base import BaseEstimator
        from sklearn.utils import all_estimators

        classes = {cls for _, cls in all_estimators()}
        stack = [BaseEstimator]
        while stack:
            for sub in stack.pop().__subclasses__():
                if sub not in classes:
                    classes.add(sub)
                    stack.append(sub)
        # The mixins too: TransformerMixin.fit_transform calls fit from inside scikit-learn, so
        # a user's scaler.fit_transform(X) is logged only if fit_transform itself is wrapped.
        owners = {base for cls in classes for base in cls.__mro__ if base is not object}
        for cls in owners:
            for method in FIT_METHODS:
                original = cls.__dict__.get(method)
                # descriptors such as available_if are not callable: left alone, they still work
                if callable(original):
                    setattr(cls, method, self._wrap(original))
                    self._patched.append((cls, method, original))

    def stop(self) -> None:
        """Restore the original fit methods."""
        for cls, method, original in reversed(self._patched):
            setattr(cls, method, original)
        self._patched.clear()

    def _wrap(self, original):
        autolog = self

        def fit(estimator, *args, **kwargs):
            if (
                autolog._depth
                or threading.current_thread() is not threading.main_thread()
                or _called_from_sklearn(sys._getframe(1))
            ):
                return original(estimator, *args, **kwargs)
            autolog._depth += 1
            started = time.perf_counter()
            try:
                result = original(estimator, *args, **kwargs)
            finally:
                autolog._depth -= 1
            autolog._record(estimator, args, kwargs, time.perf_counter() - started)
            return result

        fit.__wrapped__ = original  # type: ignore[attr-defined]
        fit.__name__ = getattr(original, "__name__", "fit")
        fit.__doc__ = getattr(original, "__doc__", None)
        return fit

    # -- what one fit records -------------------------------------------------------------------
    def _record(self, estimator: Any, args: tuple, kwargs: dict, seconds: float) -> None:
        self.fits += 1
        if self.fits > MAX_FITS:
            if self.fits == MAX_FITS + 1:
                self.warnings.append(f"autolog: only the first {MAX_FITS} fits were logged")
            return
        name = type(estimator).__name__
        self._counts[name] = self._counts.get(name, 0) + 1
        prefix = name if self._counts[name] == 1 else f"{name}_{self._counts[name]}"
        x = args[0] if args else kwargs.get("X")
        y = args[1] if len(args) > 1 else kwargs.get("y")
        steps = [
            ("params", lambda: self._log_params(prefix, estimator.get_params(deep=False))),
            ("fit_time_s", lambda: self.run.log_metric(f"{prefix}.fit_time_s", seconds)),
            ("training_score", lambda: self._log_score(prefix, estimator, x, y)),
        ]
        steps.append(("model", lambda: self._log_model(f"models/{prefix}.skops", estimator)))
        if isinstance(getattr(estimator, "cv_results_", None), dict):  # a parameter search
            steps += [
                ("best_params", lambda: self._log_best(prefix, estimator)),
                ("cv_results", lambda: self._log_cv_results(prefix, estimator.cv_results_)),
            ]
            if hasattr(estimator, "best_estimator_"):
                best = f"models/{prefix}.best_estimator.skops"
                steps.append(
                    ("best_estimator", lambda: self._log_model(best, estimator.best_estimator_))
                )
        for part, log in steps:
            try:
                log()
            except Exception as exc:  # never break the user's fit; say what is missing
                self.warnings.append(f"autolog: {prefix} {part} not logged: {_explain(exc)}")

    def _log_params(self, prefix: str, params: dict[str, Any]) -> None:
        self.run.log_params({f"{prefix}.{k}": stable_value(v) for k, v in params.items()})

    def _log_score(self, prefix: str, estimator: Any, x: Any, y: Any) -> None:
        if y is None or not hasattr(estimator, "score"):
            return
        try:
            score = float(estimator.score(x, y))
        except KeyError as exc:
            if callable(getattr(estimator, "refit", None)):
                raise ValueError(
                    "a search with several scorers and a callable `refit` has no single score "
                    "(scikit-learn cannot tell which scorer `score` means)"
                ) from exc
            raise
        self.run.log_metric(f"{prefix}.training_score", score)

    def _log_best(self, prefix: str, search: Any) -> None:
        best = getattr(search, "best_params_", None) or {}
        if best:
            self.run.log_params({f"{prefix}.best_{k}": stable_value(v) for k, v in best.items()})
        # scikit-learn sets best_score_ only when refit names a scorer (not a callable)
        if hasattr(search, "best_score_"):
            self.run.log_metric(f"{prefix}.best_cv_score", float(search.best_score_))

    def _log_cv_results(self, prefix: str, results: dict[str, Any]) -> None:
        self.run.log_bytes(cv_results_csv(results), f"models/{prefix}.cv_results.csv", "text/csv")

    def _log_model(self, path: str, estimator: Any) -> None:
        import skops.io as sio

        self.run.log_bytes(sio.dumps(estimator), path, "application/x-skops")


def _called_from_sklearn(frame: Any) -> bool:
    """Tell whether the caller of a fit is scikit-learn itself (a nested, internal fit)."""
    module = frame.f_globals.get("__name__", "") if frame is not None else ""
    return module == "sklearn" or module.startswith("sklearn.")


def _explain(exc: BaseException) -> str:
    return _ADDRESS.sub("", f"{type(exc).__name__}: {exc}")


def stable_value(value: Any) -> Any:
    """Return a param value that is the same in every process that builds the same estimator.

    Numbers, strings, booleans and None are kept; a function or class becomes its qualified name
    (``module.qualname``); any other value becomes its repr without memory addresses
    (``<Foo object at 0x7f...>`` -> ``<Foo object>``).
    """
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, type) or (callable(value) and hasattr(value, "__qualname__")):
        module = getattr(value, "__module__", None)
        return f"{module}.{value.__qualname__}" if module else value.__qualname__
    return _ADDRESS.sub("", repr(value))


def cv_results_csv(results: dict[str, Any]) -> bytes:
    """Render a search's ``cv_results_`` as CSV: one row per candidate, one column per key.

    A masked entry (a parameter a candidate does not set) is empty; the ``params`` column holds
    each candidate's parameters as JSON.
    """
    columns = list(results)
    rows = len(results[columns[0]]) if columns else 0
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for i in range(rows):
        writer.writerow([_cell(results[c], i) for c in columns])
    return out.getvalue().encode("utf-8")


def _cell(column: Any, index: int) -> Any:
    try:  # a masked array: the candidate does not set this parameter
        if column.mask[index]:
            return ""
    except (AttributeError, IndexError, TypeError):  # not masked, or nothing masked
        pass
    value = column[index]
    if isinstance(value, dict):
        return json.dumps({k: stable_value(v) for k, v in value.items()})
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    return stable_value(value)
