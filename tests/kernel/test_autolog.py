"""``%%mlops track --autolog``: what a cell's scikit-learn fits leave in its run."""

from __future__ import annotations

import csv
import io
import json

import pytest
from magics_helpers import last_run, run

from kernel_magics.core.names import is_timing
from kernel_magics.core.store import open_store

DATA = (
    "import numpy as np\n"
    "X = np.arange(12.).reshape(-1, 1); y = np.array(['no'] * 6 + ['yes'] * 6)\n"
)


@pytest.fixture
def data(shell):
    assert run(shell, DATA).success
    return shell


def _paths(record) -> set[str]:
    return {a["path"] for a in record.artifacts}


def test_fits_inside_metric_functions_and_cross_validation_are_not_models(data):
    # When: one fit by the user, then sklearn calls that fit estimators internally
    run(
        data,
        "%%mlops track --autolog\nfrom sklearn.linear_model import LogisticRegression\n"
        "from sklearn.metrics import precision_score\n"
        "from sklearn.model_selection import cross_val_score\n"
        "clf = LogisticRegression().fit(X, y)\n"
        "p = precision_score(y, clf.predict(X), pos_label='yes')\n"  # fits a LabelEncoder
        "scores = cross_val_score(LogisticRegression(C=3.0), X, y, cv=3)",
    )
    record = last_run()
    # Then: only the user's own fit is logged
    assert _paths(record) - {"cell/source.py"} == {"models/LogisticRegression.skops"}
    assert not [k for k in record.params if k.startswith(("LabelEncoder", "LogisticRegression_2"))]
    assert set(record.metrics) == {
        "LogisticRegression.fit_time_s",
        "LogisticRegression.training_score",
    }


def test_fit_transform_and_fit_predict_called_by_the_user_are_logged_once(data):
    run(
        data,
        "%%mlops track --autolog\nfrom sklearn.preprocessing import StandardScaler\n"
        "from sklearn.cluster import KMeans\n"
        "Z = StandardScaler().fit_transform(X)\n"
        "labels = KMeans(2, n_init=2, random_state=0).fit_predict(Z)",
    )
    record = last_run()
    assert {"models/StandardScaler.skops", "models/KMeans.skops"} <= _paths(record)
    assert record.params["KMeans.n_clusters"] == "2"
    assert not [k for k in record.params if k.startswith(("StandardScaler_2", "KMeans_2"))]


CALLABLES = (
    "%%mlops track --autolog\nfrom sklearn.pipeline import make_pipeline\n"
    "from sklearn.preprocessing import FunctionTransformer\n"
    "from sklearn.linear_model import LogisticRegression\n"
    "def shift(a):\n    return a + 1\n"
    "pipe = make_pipeline(FunctionTransformer(shift), LogisticRegression(random_state=0))\n"
    "pipe.fit(X, y)\nFunctionTransformer(func=np.log1p).fit(X)"
)


def test_callables_are_stored_by_qualified_name_and_reruns_store_the_same_params(data):
    # When: the same deterministic cell runs twice
    run(data, CALLABLES)
    first = last_run()
    run(data, CALLABLES)
    second = last_run()
    # Then: callables by name, no memory address anywhere, identical params
    assert first.params["FunctionTransformer.func"] == "numpy.log1p"
    assert "FunctionTransformer(func=<function shift>)" in first.params["Pipeline.steps"]
    assert not [v for v in first.params.values() if "0x" in v]
    assert first.params == second.params
    # and the only metrics that differ are wall-clock ones, which reruns compare with a tolerance
    differing = {k for k in first.metrics if first.metrics[k] != second.metrics[k]}
    assert all(is_timing(k) for k in differing)
    assert "Pipeline.fit_time_s" in first.metrics and is_timing("Pipeline.fit_time_s")


def test_a_search_logs_best_params_best_cv_score_cv_results_and_its_best_model(data):
    run(
        data,
        "%%mlops track --autolog\nfrom sklearn.linear_model import LogisticRegression\n"
        "from sklearn.model_selection import GridSearchCV\n"
        "gs = GridSearchCV(LogisticRegression(), {'C': [0.01, 1.0, 100.0]}, cv=3).fit(X, y)",
    )
    record = last_run()
    gs = data.user_ns["gs"]
    # MLflow's names (best_<param>, best_cv_score, cv_results.csv, best_estimator) under our prefix
    assert record.params["GridSearchCV.best_C"] == str(gs.best_params_["C"])
    assert record.metrics["GridSearchCV.best_cv_score"] == pytest.approx(gs.best_score_)
    store = open_store()
    data_csv, media_type = store.artifacts.read(record.id, "models/GridSearchCV.cv_results.csv")
    assert media_type == "text/csv"
    rows = list(csv.DictReader(io.StringIO(data_csv.decode())))
    assert [json.loads(r["params"]) for r in rows] == [{"C": 0.01}, {"C": 1.0}, {"C": 100.0}]
    assert [float(r["mean_test_score"]) for r in rows] == pytest.approx(
        list(gs.cv_results_["mean_test_score"])
    )
    # the candidates' fits are not logged one by one
    assert not [k for k in record.params if k.startswith("LogisticRegression")]
    assert {"models/GridSearchCV.skops", "models/GridSearchCV.best_estimator.skops"} <= _paths(
        record
    )
    assert "mlops.warnings" not in record.tags


def test_a_search_with_a_callable_refit_keeps_its_model_and_explains_the_missing_score(data):
    # Given: several scorers and a refit function (scikit-learn's own gallery pattern); such a
    # search has no best_score_ and its score() raises KeyError(<function ...>)
    run(
        data,
        "%%mlops track --autolog\nfrom sklearn.linear_model import LogisticRegression\n"
        "from sklearn.model_selection import GridSearchCV\n"
        "def simplest(cv_results):\n    return 0\n"
        "gs = GridSearchCV(LogisticRegression(), {'C': [0.01, 1.0]}, cv=3,\n"
        "                  scoring=['accuracy', 'f1_macro'], refit=simplest).fit(X, y)",
    )
    record = last_run()
    # Then: the model and the best model are stored, the refit function by name
    paths = _paths(record)
    assert {"models/GridSearchCV.skops", "models/GridSearchCV.best_estimator.skops"} <= paths
    assert record.params["GridSearchCV.refit"] == "__main__.simplest"
    assert record.params["GridSearchCV.best_C"] == "0.01"
    assert "GridSearchCV.best_cv_score" not in record.metrics  # scikit-learn has none
    # and the one warning says why there is no training score, without a memory address
    assert record.tags["mlops.warnings"] == (
        "autolog: GridSearchCV training_score not logged: ValueError: a search with several "
        "scorers and a callable `refit` has no single score (scikit-learn cannot tell which "
        "scorer `score` means)"
    )
    # The best model loads with skops without the notebook's refit function
    import skops.io as sio

    blob, _ = open_store().artifacts.read(record.id, "models/GridSearchCV.best_estimator.skops")
    model = sio.loads(blob, trusted=sio.get_untrusted_types(data=blob))
    assert list(model.predict([[0.0], [11.0]])) == list(data.user_ns["gs"].predict([[0.0], [11.0]]))


def test_stable_value():
    import functools

    import numpy as np

    from kernel_magics.core.autolog import stable_value

    class Thing:
        pass

    assert stable_value(np.log1p) == "numpy.log1p"
    assert stable_value(len) == "builtins.len"
    assert stable_value(Thing).endswith("test_stable_value.<locals>.Thing")
    assert stable_value(Thing()).startswith("<") and "0x" not in stable_value(Thing())
    assert stable_value(functools.partial(len)) == "functools.partial(<built-in function len>)"
    assert stable_value(np.random.RandomState(0)) == "RandomState(MT19937)"
    assert [stable_value(v) for v in (None, True, 2, 0.5, "l2")] == [None, True, 2, 0.5, "l2"]


def test_cv_results_csv_leaves_parameters_a_candidate_does_not_set_empty():
    import numpy as np

    from kernel_magics.core.autolog import cv_results_csv

    # What a search over [{"C": [1.0]}, {"penalty": ["l1"]}] gives: masked parameter columns
    results = {
        "param_C": np.ma.MaskedArray([1.0, 0.0], mask=[False, True], dtype=object),
        "param_penalty": np.ma.MaskedArray(["", "l1"], mask=[True, False], dtype=object),
        "params": [{"C": 1.0}, {"penalty": "l1"}],
        "mean_test_score": np.array([0.5, 0.75]),
    }
    rows = list(csv.reader(io.StringIO(cv_results_csv(results).decode())))
    assert rows == [
        ["param_C", "param_penalty", "params", "mean_test_score"],
        ["1.0", "", '{"C": 1.0}', "0.5"],
        ["", "l1", '{"penalty": "l1"}', "0.75"],
    ]
