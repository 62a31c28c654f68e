"""Models of ``/mlops/api/models/{name}/versions/{version}/card``: a model version's card."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .base import Request, Response

#: A card's free text (the same limit core applies).
CardText = Annotated[str, Field(max_length=10000)]


class ImportanceFeature(Response):
    """One feature's permutation importance."""

    name: str = Field(description="The input column (x0, x1... for a tensor input)")
    mean: float = Field(description="Mean score drop when the feature is shuffled")
    std: float = Field(description="Standard deviation of the drop over the shuffles")


class ModelCardImportance(Response):
    """What drives the version's predictions, computed once when the card was first rendered."""

    holdout: str = Field(description="'input example', a dataset version NAME@V or a file name")
    rows: int | None = Field(None, description="Rows scored")
    target: str | None = Field(None, description="The label column, or the model's predictions")
    scoring: str | None = Field(None, description="accuracy (classifiers) or r2 (regressors)")
    baseline_score: float | None = Field(None, description="The score before any shuffle")
    error: str | None = Field(None, description="Why it could not be computed (else null)")
    features: list[ImportanceFeature] = Field(
        default_factory=list, description="Largest mean drop first"
    )


class DescribeModelCardResponse(Response):
    """A version's card: the fields people write, and the stored importance."""

    name: str = Field(description="Model name")
    version: int = Field(description="Version number")
    description: str | None = Field(description="The version's description")
    intended_use: str | None = Field(description="What the model is for (free text)")
    limitations: str | None = Field(description="Known limitations (free text)")
    importance: ModelCardImportance | None = Field(
        description="Null until the card is first rendered (GET .../card/html)"
    )
    created_at: float | None = Field(description="When the card was made (null: not yet)")
    updated_at: float | None = Field(description="Last edit or computation")
    html_path: str = Field(description="Path of the rendered card (text/html) under /mlops/api")


class UpdateModelCardRequest(Request):
    """``PATCH .../card``: the fields to change (omitted ones stay; '' clears one)."""

    description: CardText | None = Field(None, description="The version's description")
    intended_use: CardText | None = Field(None, description="What the model is for")
    limitations: CardText | None = Field(None, description="Known limitations")
