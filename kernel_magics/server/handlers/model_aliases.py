"""``/mlops/api/models/{name}/aliases``, ``alias_history`` and ``promote``.

Alias moves are recorded in the alias history by the registry. Promotion goes through the one
gate, :func:`kernel_magics.core.promotion.promote`; a failed gate is an answer (409 with the
same pass/fail table), not an error page.
"""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from kernel_magics.errors import ValidationError

from ..contract import Operation
from ..models import (
    AliasMove,
    ListAliasHistoryQuery,
    ListAliasHistoryResponse,
    PromoteModelRequest,
    PromoteModelResponse,
    SetAliasRequest,
)
from .models import RegistryHandler, alias_move, check_alias_name, check_model_name, looking_up


class AliasHistoryHandler(RegistryHandler):
    """Every move of a model's aliases, newest first."""

    operations = {
        "get": Operation(
            "Every move of a model's aliases (or of one), newest first.",
            ListAliasHistoryResponse,
            query=ListAliasHistoryQuery,
            errors=(400, 404),
        )
    }

    @web.authenticated
    @authorized
    def get(self, name: str) -> None:
        """Answer a :class:`ListAliasHistoryResponse`."""
        check_model_name(name)
        query = self.parse_query(ListAliasHistoryQuery)
        if query.alias is not None:
            check_alias_name(query.alias)
        with looking_up("model"):
            moves = self.store.models.alias_history(name, query.alias)
        moves.reverse()
        self.respond(
            ListAliasHistoryResponse, {"name": name, "moves": [alias_move(name, m) for m in moves]}
        )


class ModelAliasItemHandler(RegistryHandler):
    """Set, move or delete one alias of a model (recorded in the alias history)."""

    operations = {
        "put": Operation(
            "Point the alias at a version (sets or moves it; moving to the same version "
            "changes nothing and records nothing).",
            AliasMove,
            body=SetAliasRequest,
            errors=(400, 404),
        ),
        "delete": Operation("Remove the alias.", AliasMove, errors=(400, 404)),
    }

    @web.authenticated
    @authorized
    def put(self, name: str, alias: str) -> None:
        """Answer the :class:`AliasMove` made."""
        check_model_name(name)
        check_alias_name(alias)
        body = self.parse_body(SetAliasRequest)
        repo = self.store.models
        with looking_up("model"):
            repo.get_model(name)
        with looking_up("version"):
            move = repo.set_alias(name, alias, body.version, reason=body.reason)
        self.respond(AliasMove, alias_move(name, move))

    @web.authenticated
    @authorized
    def delete(self, name: str, alias: str) -> None:
        """Answer the :class:`AliasMove` (to no version) recorded."""
        check_model_name(name)
        check_alias_name(alias)
        repo = self.store.models
        with looking_up("model"):
            repo.get_model(name)
        with looking_up("alias"):
            move = repo.delete_alias(name, alias, reason="deleted through the REST API")
        self.respond(AliasMove, alias_move(name, move))


class ModelPromoteHandler(RegistryHandler):
    """Run the promotion gate; move the alias when every check passes."""

    operations = {
        "post": Operation(
            "Evaluate the promotion gate for a version and move the alias if it passes.",
            PromoteModelResponse,
            body=PromoteModelRequest,
            errors=(400, 404, 409),
            description=(
                "200 with the pass/fail table when every check passed (the alias moved, unless "
                "dry_run). A failed gate answers 409 with the same PromoteModelResponse body "
                "(passed: false), not an error message."
            ),
        )
    }

    @web.authenticated
    @authorized
    def post(self, name: str) -> None:
        """Answer a :class:`PromoteModelResponse` (409 when the gate failed)."""
        from kernel_magics.core.promotion import parse_condition, promote
        from kernel_magics.core.registry import ModelRef

        check_model_name(name)
        body = self.parse_body(PromoteModelRequest)
        check_alias_name(body.alias)
        if body.better_than is not None:
            check_alias_name(body.better_than, "better_than alias")
            if not body.metric:
                raise ValidationError("better_than needs metric (the metric to compare).")
        for i, text in enumerate(body.require):
            try:
                parse_condition(text)
            except ValidationError:
                raise ValidationError(
                    f"require[{i}] is not a condition: write 'metrics.NAME OP NUMBER' (OP one of "
                    ">= <= > < == !=), e.g. 'metrics.accuracy >= 0.9', or 'params.NAME == VALUE'."
                ) from None
        repo = self.store.models
        with looking_up("model"):
            repo.get_model(name)
        with looking_up("version"):  # the latest version when none is given
            repo.get_version(ModelRef(name, version=body.version))
        result = promote(
            name,
            body.version,
            to=body.alias,
            require=body.require,
            better_than=body.better_than,
            metric=body.metric,
            maximize=body.maximize,
            min_delta=body.min_delta,
            dry_run=body.dry_run,
            store=self.store,
        )
        data = result.to_dict()
        data.update(name=name, dry_run=body.dry_run)
        data["move"] = alias_move(name, result.move) if result.move else None
        self.respond(PromoteModelResponse, data, status=200 if result.passed else 409)
