"""Drift of live inputs and predictions away from the training profile, with scipy.stats.

Two kinds of live data reach this module:

* **counts** (every request the model server answers, aggregated per bucket; see
  :mod:`kernel_magics.core.monitoring.counts`): values per bin of the training profile's
  histogram, below its minimum, above its maximum, missing; or per category, unseen categories
  apart. No raw rows exist, so the test is the population stability index (PSI) on those bins.
* **samples** (a scored batch, or the requests the prediction log sampled): raw values. The test
  follows Evidently's documented default algorithm ("Data drift algorithm", Evidently docs): for
  a reference of at most 1,000 rows, the two-sample Kolmogorov-Smirnov test for numeric features
  and the chi-squared test for categorical ones (drift when p < 0.05); above 1,000 rows, the
  Wasserstein distance normalized by the reference's standard deviation for numeric features
  and the Jensen-Shannon distance for categorical ones (drift when >= 0.1). A numeric feature
  with at most 5 distinct reference values is treated as categorical, as Evidently does.

The tests on samples live in :mod:`.samples`; this module holds the settings, the verdicts,
PSI on counts and the dataset verdict.

The dataset verdict is the share of drifted features (of those with enough data) against
``drift_share`` (0.5, Evidently's default), plus the prediction's own drift.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

from ...errors import ValidationError

#: Methods by name: "score" is a p-value for the tests (drift when below the threshold) and a
#: distance for the others (drift when at or above it).
P_VALUE_METHODS = ("ks", "chisquare")
DISTANCE_METHODS = ("psi", "wasserstein", "jensenshannon")
METHODS = P_VALUE_METHODS + DISTANCE_METHODS

#: Evidently switches from tests to distances above this many reference rows.
SMALL_REFERENCE_ROWS = 1000
#: A numeric feature with at most this many distinct reference values is tested as categorical.
FEW_VALUES = 5
#: PSI's floor for an empty bin's share (log of zero otherwise), as common PSI practice does.
PSI_EPSILON = 1e-4

#: Model-version tags that override the defaults, e.g. ``monitoring.psi_threshold=0.25``.
TAG_PREFIX = "monitoring."


@dataclass(frozen=True)
class DriftConfig:
    """Tests, thresholds and the minimum data a drift verdict needs.

    Defaults follow Evidently's documented defaults. Every field can be set per model version
    with a tag ``monitoring.<field>`` (see :meth:`from_tags`).

    Attributes
    ----------
    psi_threshold : float
        PSI at or above this is drift (0.2, the usual "significant shift" cut-off).
    p_value : float
        KS / chi-squared p-values below this are drift (0.05).
    distance_threshold : float
        Normalized Wasserstein / Jensen-Shannon distances at or above this are drift (0.1).
    numeric_method, categorical_method : str or None
        Force one method (``ks``, ``wasserstein``, ``psi`` / ``chisquare``, ``jensenshannon``,
        ``psi``) for raw samples instead of choosing by reference size.
    min_rows : int
        A window or batch with fewer live rows says "not enough data" instead of a verdict.
    drift_share : float
        The dataset drifts when at least this share of its features drift (0.5).
    """

    psi_threshold: float = 0.2
    p_value: float = 0.05
    distance_threshold: float = 0.1
    numeric_method: str | None = None
    categorical_method: str | None = None
    min_rows: int = 100
    drift_share: float = 0.5

    def __post_init__(self) -> None:
        for name in ("numeric_method", "categorical_method"):
            method = getattr(self, name)
            if method is not None and method not in METHODS:
                raise ValidationError(
                    f"Drift method {method!r} ({name}) is unknown: use one of {', '.join(METHODS)}."
                )
        for name in ("p_value", "drift_share"):
            if not 0 < getattr(self, name) <= 1:
                raise ValidationError(f"Drift setting {name} must be in (0, 1].")
        if self.psi_threshold <= 0 or self.distance_threshold <= 0 or self.min_rows < 1:
            raise ValidationError(
                "Drift thresholds must be positive and min_rows at least 1 "
                "(e.g. monitoring.psi_threshold=0.2, monitoring.min_rows=100)."
            )

    @classmethod
    def from_tags(cls, tags: Mapping[str, str]) -> DriftConfig:
        """The defaults overridden by a model version's ``monitoring.*`` tags.

        Raises
        ------
        ValidationError
            When a tag names no setting or holds a value of the wrong type.
        """
        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, raw in tags.items():
            if not key.startswith(TAG_PREFIX):
                continue
            name = key.removeprefix(TAG_PREFIX)
            if name not in known:
                raise ValidationError(
                    f"Model tag {key!r} names no drift setting: use one of "
                    f"{', '.join(TAG_PREFIX + n for n in known)}."
                )
            kind = str(known[name].type)
            try:
                values[name] = int(raw) if kind == "int" else raw if "str" in kind else float(raw)
            except ValueError:
                raise ValidationError(
                    f"Model tag {key}={raw!r} is not a number; set it to e.g. "
                    f"{getattr(cls(), name)!r}."
                ) from None
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """The settings as JSON."""
        return asdict(self)


@dataclass(frozen=True)
class FeatureDrift:
    """The drift verdict of one feature (or of the prediction) in one window or batch.

    Attributes
    ----------
    name : str
    kind : str
        ``numeric`` or ``categorical``.
    method : str
        One of :data:`METHODS`.
    score : float or None
        The p-value or distance; None when there was not enough data.
    threshold : float
    drifted : bool or None
        None when there was not enough data (never a false alarm from a handful of rows).
    rows : int
        Live values the verdict is based on (missing ones excluded).
    """

    name: str
    kind: str
    method: str
    score: float | None
    threshold: float
    drifted: bool | None
    rows: int

    @property
    def status(self) -> str:
        """``drift``, ``ok`` or ``not enough data``."""
        return "not enough data" if self.drifted is None else "drift" if self.drifted else "ok"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, with the status spelled out."""
        return {**asdict(self), "status": self.status}


def _verdict(name, kind, method, score, config: DriftConfig, rows: int) -> FeatureDrift:
    if method in P_VALUE_METHODS:
        threshold = config.p_value
        drifted = score < threshold
    else:
        threshold = config.psi_threshold if method == "psi" else config.distance_threshold
        drifted = score >= threshold
    return FeatureDrift(name, kind, method, float(score), threshold, bool(drifted), rows)


def _not_enough(name, kind, method, config: DriftConfig, rows: int) -> FeatureDrift:
    threshold = {"psi": config.psi_threshold}.get(
        method, config.p_value if method in P_VALUE_METHODS else config.distance_threshold
    )
    return FeatureDrift(name, kind, method, None, threshold, None, rows)


# -- PSI on counts ----------------------------------------------------------------------------
def psi(expected: Sequence[float] | Any, actual: Sequence[float] | Any) -> float:
    """Population stability index of ``actual`` counts against ``expected`` counts per bin.

    ``sum((a - e) * ln(a / e))`` over bin shares, each share floored at :data:`PSI_EPSILON`
    so an empty bin counts as very rare instead of dividing by zero.

    Raises
    ------
    ValidationError
        When the two have different lengths or either sums to zero.
    """
    import numpy as np

    e = np.asarray(expected, dtype="float64")
    a = np.asarray(actual, dtype="float64")
    if e.shape != a.shape or e.ndim != 1:
        raise ValidationError(f"PSI needs two count vectors of one length ({e.size} vs {a.size}).")
    if e.sum() <= 0 or a.sum() <= 0:
        raise ValidationError("PSI needs at least one count on each side.")
    e = np.clip(e / e.sum(), PSI_EPSILON, None)
    a = np.clip(a / a.sum(), PSI_EPSILON, None)
    return float(np.sum((a - e) * np.log(a / e)))


def reference_counts(profile: Mapping[str, Any]) -> tuple[list[str], list[float]]:
    """The training side of a feature's bins: labels and counts in the order counts use.

    Numeric: the histogram's bins, then ``below`` and ``above`` (empty in training, by
    construction of min/max edges). Categorical: the profile's categories, then ``unseen``.
    """
    rows = float(profile.get("count", 0) - profile.get("missing", 0))
    if profile.get("kind") == "numeric":
        counts = [float(c) for c in profile.get("histogram", {}).get("counts", [])]
        labels = [f"bin{i}" for i in range(len(counts))]
        return [*labels, "below", "above"], [*counts, 0.0, 0.0]
    freqs = profile.get("frequencies", {})
    labels = [k for k in freqs if k != "__other__"]
    counts = [freqs[k] * rows for k in labels]
    return [*labels, "unseen"], [*counts, float(freqs.get("__other__", 0.0)) * rows]


def live_counts(profile: Mapping[str, Any], counts: Mapping[str, Any]) -> list[float]:
    """A bucket's counts of one feature in the order of :func:`reference_counts`.

    Categories the profile lists only under ``__other__`` (or not at all) count as unseen.
    """
    if profile.get("kind") == "numeric":
        return [
            *[float(c) for c in counts.get("bins", [])],
            float(counts.get("below", 0)),
            float(counts.get("above", 0)),
        ]
    labels, _ = reference_counts(profile)
    known = set(labels[:-1])
    seen = counts.get("categories", {})
    unseen = float(counts.get("unseen", 0)) + sum(
        float(n) for value, n in seen.items() if value not in known
    )
    return [*[float(seen.get(label, 0)) for label in labels[:-1]], unseen]


def counts_drift(
    name: str, profile: Mapping[str, Any], counts: Mapping[str, Any], config: DriftConfig
) -> FeatureDrift:
    """PSI of one feature's live counts (see :mod:`.counts`) against its training profile."""
    kind = str(profile.get("kind", "numeric"))
    _, expected = reference_counts(profile)
    actual = live_counts(profile, counts)
    rows = int(sum(actual))
    if rows < config.min_rows or sum(expected) <= 0:
        return _not_enough(name, kind, "psi", config, rows)
    if len(actual) != len(expected):
        raise ValidationError(
            f"Counts of {name!r} have {len(actual)} bins, its profile {len(expected)}: the "
            "counts were made with another profile's edges; monitor the version that made them."
        )
    return _verdict(name, kind, "psi", psi(expected, actual), config, rows)


# -- the dataset verdict ----------------------------------------------------------------------
@dataclass(frozen=True)
class DatasetDrift:
    """Every feature's verdict and the dataset's.

    Attributes
    ----------
    features : dict of str to FeatureDrift
    prediction : FeatureDrift or None
    share : float or None
        Drifted features / features with enough data; None when none had enough.
    drifted : bool or None
        ``share >= config.drift_share``; None when there was not enough data.
    """

    features: dict[str, FeatureDrift]
    prediction: FeatureDrift | None
    share: float | None
    drifted: bool | None

    @property
    def drifted_features(self) -> list[str]:
        """Names of the drifted features, in feature order."""
        return [n for n, f in self.features.items() if f.drifted]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "share": self.share,
            "drifted": self.drifted,
            "drifted_features": self.drifted_features,
            "features": {n: f.to_dict() for n, f in self.features.items()},
            "prediction": self.prediction.to_dict() if self.prediction else None,
        }


def dataset_drift(
    features: Mapping[str, FeatureDrift],
    prediction: FeatureDrift | None = None,
    config: DriftConfig | None = None,
) -> DatasetDrift:
    """Combine per-feature verdicts into the dataset verdict (share of drifted features)."""
    config = config or DriftConfig()
    judged = [f for f in features.values() if f.drifted is not None]
    if not judged:
        return DatasetDrift(dict(features), prediction, None, None)
    share = sum(1 for f in judged if f.drifted) / len(judged)
    return DatasetDrift(dict(features), prediction, share, share >= config.drift_share)
