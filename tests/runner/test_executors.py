"""Swappable parts: our executors and serving backend are entry points, chosen by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from kernel_magics.core import plugins
from kernel_magics.core.runner import RunOptions, run_notebook
from kernel_magics.core.runner.dask import DaskRunExecutor
from kernel_magics.core.runner.executors import BaseRunExecutor, LocalRunExecutor, executor_for
from kernel_magics.core.scheduler.executors import BaseSlotExecutor, RunnerSlotExecutor
from kernel_magics.core.serving.local import BaseServingBackend, LocalServingBackend, backend_class
from kernel_magics.errors import PluginNotFoundError, ValidationError

NOTEBOOKS = Path(__file__).parents[1] / "fixtures" / "notebooks"


def test_our_implementations_are_registered_entry_points():
    assert plugins.load(plugins.EXECUTORS, "local") is LocalRunExecutor
    assert plugins.load(plugins.EXECUTORS, "dask") is DaskRunExecutor
    assert plugins.load(plugins.SCHEDULE_EXECUTORS, "papermill") is RunnerSlotExecutor
    assert plugins.load(plugins.SERVING_BACKENDS, "local") is LocalServingBackend
    assert issubclass(RunnerSlotExecutor, BaseSlotExecutor)
    assert issubclass(LocalServingBackend, BaseServingBackend)


def test_the_executor_spec_picks_the_entry_point_by_scheme():
    with executor_for("local", workers=3) as local:
        assert type(local) is LocalRunExecutor and local.workers == 3
    with executor_for(None) as default:
        assert type(default) is LocalRunExecutor
    with pytest.raises(PluginNotFoundError, match=r"'local' or 'dask://HOST:PORT'.*dask, local"):
        executor_for("k8s://cluster:1")
    with pytest.raises(ValidationError, match="dask://HOST:PORT"):
        executor_for("dask://no-port")  # refused before any connection is tried


def test_a_bad_workers_count_is_refused_by_the_options_and_the_executors():
    for bad in (0, True, "2"):
        with pytest.raises(ValidationError, match="--workers must be a positive integer"):
            RunOptions(workers=bad)
        with pytest.raises(ValidationError, match="--workers must be a positive integer"):
            LocalRunExecutor(bad)


class CountingExecutor(LocalRunExecutor):
    """A third-party executor: runs locally and counts the plans it was given."""

    plans: list = []

    def run_plans(self, plans, **kwargs):
        CountingExecutor.plans.extend(plans)
        return super().run_plans(plans, **kwargs)


def test_an_executor_class_can_be_given_instead_of_a_name(store):
    CountingExecutor.plans = []
    result = run_notebook(NOTEBOOKS / "simple.ipynb", {"x": 3}, executor=CountingExecutor)

    assert result.status == "finished", result.error
    [plan] = CountingExecutor.plans
    assert plan.parameters == {"x": 3}
    assert store.runs.get(result.run_id).metrics == {"double": 6.0}


def test_an_executor_that_is_not_a_run_executor_is_refused():
    with pytest.raises(ValidationError, match="not a BaseRunExecutor subclass"):
        executor_for(dict)
    assert issubclass(CountingExecutor, BaseRunExecutor)


def test_the_serving_backend_is_chosen_by_name(store, monkeypatch):
    from kernel_magics.core.serving.deployments import get_backend

    assert backend_class() is LocalServingBackend
    assert type(get_backend(store)) is LocalServingBackend

    class Custom(LocalServingBackend):
        name = "custom"

    assert type(get_backend(store, Custom)) is Custom
    monkeypatch.setenv("MLOPS_SERVING_BACKEND", "nope")
    with pytest.raises(PluginNotFoundError, match="'nope'.*known: local"):
        backend_class()
