"""Drift statistics: synthetic shifts are flagged, unshifted data raises alarms at the set rate."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from kernel_magics.core.monitoring.drift import DriftConfig, counts_drift, psi
from kernel_magics.core.monitoring.samples import LARGE_SAMPLE, frame_drift, sample_drift
from kernel_magics.core.registry.profile import profile_data
from kernel_magics.errors import ValidationError

FEATURES = [f"f{i}" for i in range(10)]


def _frame(rng: np.random.Generator, rows: int, shift: dict[str, float] | None = None):
    shift = shift or {}
    data = {name: rng.normal(shift.get(name, 0.0), 1.0, rows) for name in FEATURES}
    data["plan"] = rng.choice(["basic", "pro", "team"], rows, p=[0.6, 0.3, 0.1])
    return pd.DataFrame(data)


def _bin_counts(feature_profile: dict, values: np.ndarray) -> dict:
    """What the model server counts for a numeric feature: profile bins, below, above."""
    edges = np.asarray(feature_profile["histogram"]["edges"])
    inside = (values >= edges[0]) & (values <= edges[-1])
    return {
        "bins": np.histogram(values[inside], edges)[0].tolist(),
        "below": int((values < edges[0]).sum()),
        "above": int((values > edges[-1]).sum()),
        "missing": 0,
    }


def test_psi_of_known_counts():
    # Given shares 0.25/0.25/0.5 against 0.5/0.25/0.25
    expected, actual = [25, 25, 50], [50, 25, 25]
    # Then PSI is sum((a - e) * ln(a / e)) over the shares
    by_hand = (0.5 - 0.25) * math.log(0.5 / 0.25) + 0 + (0.25 - 0.5) * math.log(0.25 / 0.5)
    assert psi(expected, actual) == pytest.approx(by_hand)
    assert psi([10, 20, 30], [1, 2, 3]) == pytest.approx(0.0)
    # an empty live bin is floored, not a division by zero
    assert math.isfinite(psi([50, 50], [100, 0]))


def test_psi_refuses_mismatched_counts():
    with pytest.raises(ValidationError, match="one length"):
        psi([1, 2], [1, 2, 3])


@pytest.mark.parametrize("rows", [500, 5000])  # KS below 1,000 reference rows, Wasserstein above
def test_one_standard_deviation_shift_is_flagged(rows):
    # Given training data and live data with f3's mean moved by one standard deviation
    rng = np.random.default_rng(7)
    reference, live = _frame(rng, rows), _frame(rng, rows, shift={"f3": 1.0})
    # When
    verdict = frame_drift(reference, live)
    # Then f3 drifts, judged by the method Evidently would pick (at p < 0.05 an unshifted
    # feature may be a false alarm too; the false-alarm test below measures that rate)
    f3 = verdict.features["f3"]
    assert f3.drifted is True
    if rows <= 1000:
        assert f3.method == "ks" and f3.score < 1e-6
    else:
        assert f3.method == "wasserstein" and verdict.drifted_features == ["f3"]
    assert verdict.features["plan"].method == ("chisquare" if rows <= 1000 else "jensenshannon")
    assert verdict.share is not None and verdict.share <= 3 / 11
    assert verdict.drifted is False  # a few features in eleven are below the 0.5 share


def test_shift_is_flagged_against_the_stored_profile():
    # Given only the stored training profile (no raw training rows) and shifted live counts
    rng = np.random.default_rng(11)
    profile = profile_data(_frame(rng, 5000))
    live = _frame(rng, 2000, shift={"f0": 1.0})
    # When the server's counts (profile bins) and the raw values are judged
    by_counts = {
        n: counts_drift(n, profile["features"][n], _bin_counts(profile["features"][n], live[n]),
                        DriftConfig())
        for n in FEATURES
    }  # fmt: skip
    by_samples = frame_drift(profile, live)
    # Then f0 alone drifts, by PSI on counts and by the distance on samples
    assert [n for n, d in by_counts.items() if d.drifted] == ["f0"]
    assert by_counts["f0"].score > 0.2
    assert by_samples.drifted_features == ["f0"]


def test_false_alarm_rate_matches_the_configured_level():
    # Given 20 seeds of unshifted data, 10 numeric features each, KS at p < 0.05
    alarms = tests = 0
    for seed in range(20):
        rng = np.random.default_rng(seed)
        verdict = frame_drift(_frame(rng, 400).drop(columns="plan"),
                              _frame(rng, 400).drop(columns="plan"))  # fmt: skip
        alarms += len(verdict.drifted_features)
        tests += len(verdict.features)
    # Then the alarm rate is 5 % within a 99.9 % binomial band (not zero, not much more)
    low, high = stats.binom.ppf([0.0005, 0.9995], tests, 0.05)
    assert tests == 200
    assert low <= alarms <= high, f"{alarms} false alarms in {tests} tests"


def test_configured_level_changes_the_alarm_rate():
    # Given the same unshifted data judged at p < 0.2 instead of 0.05
    config = DriftConfig(p_value=0.2)
    alarms = 0
    for seed in range(20):
        rng = np.random.default_rng(100 + seed)
        verdict = frame_drift(_frame(rng, 300).drop(columns="plan"),
                              _frame(rng, 300).drop(columns="plan"), config)  # fmt: skip
        alarms += len(verdict.drifted_features)
    low, high = stats.binom.ppf([0.0005, 0.9995], 200, 0.2)
    assert low <= alarms <= high


def test_too_few_rows_is_not_enough_data():
    # Given 30 live rows, fewer than the default minimum of 100
    rng = np.random.default_rng(3)
    reference = rng.normal(0, 1, 1000)
    verdict = sample_drift("x", reference, rng.normal(5, 1, 30))
    # Then no verdict, even for an obvious shift
    assert verdict.drifted is None
    assert verdict.status == "not enough data"
    assert verdict.score is None
    profile = profile_data(pd.DataFrame({"x": reference}))["features"]["x"]
    counts = _bin_counts(profile, rng.normal(5, 1, 30))
    assert counts_drift("x", profile, counts, DriftConfig()).status == "not enough data"
    # and the dataset has no verdict either
    dataset = frame_drift(pd.DataFrame({"x": reference}), pd.DataFrame({"x": rng.normal(size=30)}))
    assert dataset.share is None and dataset.drifted is None


def test_new_category_counts_as_drift():
    # Given a profile of three plans and live traffic where a fourth appears in 40 % of rows
    rng = np.random.default_rng(5)
    profile = profile_data(_frame(rng, 3000))["features"]["plan"]
    counts = {"categories": {"basic": 300, "pro": 150, "team": 50, "enterprise": 400},
              "unseen": 0, "missing": 0}  # fmt: skip
    verdict = counts_drift("plan", profile, counts, DriftConfig())
    # Then PSI flags it (the unseen category is its own bin)
    assert verdict.drifted is True and verdict.kind == "categorical"
    same = {"categories": {"basic": 600, "pro": 300, "team": 100}, "unseen": 0, "missing": 0}
    assert counts_drift("plan", profile, same, DriftConfig()).drifted is False


def test_few_distinct_values_are_tested_as_categories():
    rng = np.random.default_rng(9)
    verdict = sample_drift("flag", rng.integers(0, 2, 500), rng.integers(0, 2, 500))
    assert verdict.kind == "categorical" and verdict.method == "chisquare"


def test_overrides_from_model_tags():
    config = DriftConfig.from_tags(
        {"monitoring.psi_threshold": "0.3", "monitoring.min_rows": "20", "owner": "ana"}
    )
    assert config.psi_threshold == 0.3 and config.min_rows == 20
    assert DriftConfig.from_tags({"monitoring.numeric_method": "psi"}).numeric_method == "psi"
    with pytest.raises(ValidationError, match="names no drift setting"):
        DriftConfig.from_tags({"monitoring.psi": "0.3"})
    with pytest.raises(ValidationError, match="not a number"):
        DriftConfig.from_tags({"monitoring.min_rows": "many"})
    with pytest.raises(ValidationError, match="unknown"):
        DriftConfig(numeric_method="t-test")


def test_forced_method_is_used():
    rng = np.random.default_rng(1)
    config = DriftConfig(numeric_method="psi")
    verdict = sample_drift("x", rng.normal(size=2000), rng.normal(1, 1, 2000), config)
    assert verdict.method == "psi" and verdict.drifted is True


@pytest.mark.parametrize("shift", [0.0, 0.01, 0.2])
def test_large_samples_agree_with_scipy_on_raw_values(shift):
    # Given more live values than LARGE_SAMPLE (counted over bins before the test)
    from kernel_magics.core.monitoring.samples import _binned_ks, _binned_wasserstein

    rng = np.random.default_rng(2)
    live = rng.normal(shift, 1, LARGE_SAMPLE + 10_000)
    small_ref, big_ref = rng.normal(0, 1, 800), rng.normal(0, 1, 20_000)
    # Then KS is scipy's own p-value (the statistic is exact), Wasserstein within 1 %
    assert _binned_ks(small_ref, live) == pytest.approx(stats.ks_2samp(small_ref, live).pvalue,
                                                        rel=1e-9, abs=1e-12)  # fmt: skip
    exact = stats.wasserstein_distance(big_ref, live)
    assert _binned_wasserstein(big_ref, live) == pytest.approx(exact, rel=0.01, abs=2e-3)
    verdict = sample_drift("x", small_ref, live)
    assert verdict.method == "ks" and verdict.rows == live.size


def test_large_samples_with_ties_keep_the_exact_ks_statistic():
    # Given whole-number values (many ties) in both samples
    from kernel_magics.core.monitoring.samples import _binned_ks

    rng = np.random.default_rng(4)
    reference = rng.integers(0, 40, 700).astype(float)
    live = rng.integers(1, 41, LARGE_SAMPLE + 1).astype(float)
    assert _binned_ks(reference, live) == pytest.approx(
        stats.ks_2samp(reference, live).pvalue, rel=1e-9, abs=1e-12
    )
