"""scikit-learn autologging for ``%%mlops track --autolog``, with no change to the user's code.

While active, the ``fit`` method of every scikit-learn estimator class (those
:func:`sklearn.utils.all_estimators` lists plus any already-imported subclass of
``BaseEstimator``, such as the user's own) is wrapped. Each outermost ``fit`` on the main
thread records, under the prefix ``<ClassName>`` (``<ClassName>_2`` for the second fit of that
class...):

* params ``<prefix>.<name>`` from ``get_params(deep=False)``;
* metrics ``<prefix>.fit_time_s`` and, when ``fit`` got ``y`` and the estimator has ``score``,
  ``<prefix>.training_score``;
* the fitted model as the artifact ``models/<prefix>.skops`` (skops, never pickle).

Nested fits (a Pipeline's steps, a search's candidates) are not logged separately.
"""

from __future__ import annotations

import threading
import time
from typing import Any

#: At most this many fits are logged per cell (a loop of 10,000 fits would flood the run).
MAX_FITS = 20


class SklearnAutolog:
    """Patch scikit-learn's ``fit`` methods to log into ``run`` until :meth:`stop`.

    Parameters
    ----------
    run : Run
        The run to log into.
    """

    def __init__(self, run: Any):
        self.run = run
        self.warnings: list[str] = []
        self.fits = 0
        self._patched: list[tuple[type, Any]] = []
        self._depth = 0
        self._counts: dict[str, int] = {}

    def start(self) -> None:
        """Wrap the ``fit`` methods."""
        from sklearn.base import BaseEstimator
        from sklearn.utils import all_estimators

        classes = {cls for _, cls in all_estimators()}
        stack = [BaseEstimator]
        while stack:
            for sub in stack.pop().__subclasses__():
                if sub not in classes:
                    classes.add(sub)
                    stack.append(sub)
        for cls in classes:
            original = cls.__dict__.get("fit")
            if callable(original):
                cls.fit = self._wrap(original)
                self._patched.append((cls, original))

    def stop(self) -> None:
        """Restore the original ``fit`` methods."""
        for cls, original in reversed(self._patched):
            cls.fit = original
        self._patched.clear()

    def _wrap(self, original):
        autolog = self

        def fit(estimator, *args, **kwargs):
            if autolog._depth or threading.current_thread() is not threading.main_thread():
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

    def _record(self, estimator: Any, args: tuple, kwargs: dict, seconds: float) -> None:
        self.fits += 1
        if self.fits > MAX_FITS:
            if self.fits == MAX_FITS + 1:
                self.warnings.append(f"autolog: only the first {MAX_FITS} fits were logged")
            return
        name = type(estimator).__name__
        self._counts[name] = self._counts.get(name, 0) + 1
        prefix = name if self._counts[name] == 1 else f"{name}_{self._counts[name]}"
        try:
            params = {f"{prefix}.{k}": _plain(v) for k, v in estimator.get_params(False).items()}
            self.run.log_params(params)
            self.run.log_metric(f"{prefix}.fit_time_s", seconds)
            y = args[1] if len(args) > 1 else kwargs.get("y")
            if y is not None and hasattr(estimator, "score"):
                x = args[0] if args else kwargs.get("X")
                self.run.log_metric(f"{prefix}.training_score", float(estimator.score(x, y)))
            import skops.io as sio

            self.run.log_bytes(
                sio.dumps(estimator), f"models/{prefix}.skops", "application/x-skops"
            )
        except Exception as exc:  # never break the user's fit
            self.warnings.append(f"autolog could not log {prefix}: {exc}")


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)
