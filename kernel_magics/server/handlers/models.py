"""``/mlops/api/models``: registered models and their versions (with signature and lineage).

Handlers validate what the URL and the body name before calling the registry, so error answers
name the field and the fix without repeating what the client sent (a name in a URL is input).
Aliases and promotion are in :mod:`.model_aliases`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from kernel_magics.errors import ModelNotFoundError, NotFoundError, ValidationError

from ..base import MlopsHandler
from ..contract import Operation
from ..models import (
    DescribeModelVersionResponse,
    ListModelsQuery,
    ListModelsResponse,
    ListModelVersionsQuery,
    ListModelVersionsResponse,
    ModelSummary,
    ModelVersionSummary,
    UpdateModelRequest,
    UpdateModelVersionRequest,
)

#: What to do when a lookup fails, by what was looked up (the message repeats no input).
_MISSING = {
    "model": "No model by that name. List models with GET /mlops/api/models (`mlops models ls`).",
    "version": "That model has no such version. List them: GET /mlops/api/models/NAME/versions.",
    "alias": "That model has no such alias. Set it with PUT /mlops/api/models/NAME/aliases/ALIAS.",
}
_NAME_HELP = "use letters, digits, '_', '.' or '-' (starting with a letter or digit), at most 255"
_ALIAS_HELP = "start with a letter, then letters, digits, '_' or '-' (at most 64), e.g. production"


def _check(kind: str, value: str, pattern: Any, help: str) -> str:
    if not pattern.match(value):
        raise ValidationError(f"The {kind} is not valid: {help}.")
    return value


def refuse_system_tags(keys: list[str]) -> None:
    """Refuse changes to ``mlops.*`` tags, which the system writes (400)."""
    if any(key.startswith("mlops.") for key in keys):
        raise ValidationError(
            "Tags starting with 'mlops.' are the system's (library versions, trusted "
            "types); choose another key."
        )


def check_model_name(name: str) -> str:
    """Return ``name`` if it is a valid model name (400 without repeating it otherwise)."""
    from kernel_magics.core.registry.records import NAME_RE

    return _check("model name", name, NAME_RE, _NAME_HELP)


def check_alias_name(alias: str, field: str = "alias") -> str:
    """Return ``alias`` if it is a valid alias (400 naming ``field`` otherwise)."""
    from kernel_magics.core.registry.records import ALIAS_RE

    return _check(field, alias, ALIAS_RE, _ALIAS_HELP)


def check_version(version: str) -> int:
    """Return the version number in a URL (400 unless it is a positive integer)."""
    if not version.isdigit() or not 0 < int(version) < 2**63:
        raise ValidationError("The version in the URL must be a positive integer, e.g. 3.")
    return int(version)


@contextmanager
def looking_up(kind: str) -> Iterator[None]:
    """Turn the registry's not-found error into a 404 that names ``kind`` (not the input)."""
    try:
        yield
    except ModelNotFoundError:
        raise NotFoundError(_MISSING[kind]) from None


def signature_fields(signature: dict[str, Any] | None) -> dict[str, Any] | None:
    """The stored signature as named, typed inputs and outputs (see ``core/registry``)."""
    if not signature:
        return None
    inputs = signature.get("inputs") or {}
    if inputs.get("type") == "columns":
        fields = [{"name": c["name"], "type": c["type"]} for c in inputs.get("columns", [])]
    else:
        width = inputs.get("width")
        fields = [{"name": "input", "type": f"{inputs.get('dtype')}[-1, {width}]"}]
    outputs = signature.get("outputs")
    out = []
    if outputs:
        shape = ", ".join(map(str, outputs.get("shape", [-1])))
        out = [{"name": "prediction", "type": f"{outputs.get('dtype')}[{shape}]"}]
    return {"input_type": inputs.get("type", "tensor"), "inputs": fields, "outputs": out}


def version_rows(store: Any, records: list[Any]) -> list[dict[str, Any]]:
    """Versions as table rows, each with its run's latest metrics (one query for all runs)."""
    from kernel_magics.core.store.summaries import run_summaries

    run_ids = [r.run_id for r in records if r.run_id]
    metrics = {row["id"]: row["metrics"] for row in run_summaries(store, run_ids)}
    rows = []
    for record in records:
        row = record.to_dict()
        row["signature"] = signature_fields(record.signature)
        row["metrics"] = metrics.get(record.run_id, {})
        rows.append(row)
    return rows


def alias_move(name: str, move: Any) -> dict[str, Any]:
    """An :class:`~kernel_magics.core.registry.records.AliasMove` with its model's name."""
    return {"name": name, **move.to_dict()}


class RegistryHandler(MlopsHandler):
    """Shared page-size check of the registry routes."""

    def check_page(self, limit: int) -> None:
        """Refuse pages larger than ``KernelMagicsApp.max_page_size`` (400)."""
        limit_max = self.settings.get("km_max_page_size", 500)
        if limit > limit_max:
            raise ValidationError(f"limit must be at most {limit_max}; page with offset instead.")


class ModelsHandler(RegistryHandler):
    """List registered models, by name, a page at a time."""

    operations = {
        "get": Operation(
            "One page of registered models (by name) with version counts and aliases.",
            ListModelsResponse,
            query=ListModelsQuery,
            errors=(400,),
        )
    }

    @web.authenticated
    @authorized
    def get(self) -> None:
        """Answer a :class:`ListModelsResponse`."""
        query = self.parse_query(ListModelsQuery)
        self.check_page(query.limit)
        repo = self.store.models
        records = repo.list_models(limit=query.limit, offset=query.offset)
        self.respond(
            ListModelsResponse,
            {
                "models": [r.to_dict() for r in records],
                "total": repo.count_models(),
                "limit": query.limit,
                "offset": query.offset,
            },
        )


class ModelItemHandler(RegistryHandler):
    """One registered model: read it, or change its description."""

    operations = {
        "get": Operation(
            "One model with its version count and aliases.", ModelSummary, errors=(400, 404)
        ),
        "patch": Operation(
            "Change a model's description, set or remove its tags (not mlops.*).",
            ModelSummary,
            body=UpdateModelRequest,
            errors=(400, 404),
        ),
    }

    @web.authenticated
    @authorized
    def get(self, name: str) -> None:
        """Answer a :class:`ModelSummary`."""
        with looking_up("model"):
            record = self.store.models.get_model(check_model_name(name))
        self.respond(ModelSummary, record.to_dict())

    @web.authenticated
    @authorized
    def patch(self, name: str) -> None:
        """Apply the changes; answer the model's :class:`ModelSummary`."""
        from kernel_magics.core.registry import ModelRef

        check_model_name(name)
        body = self.parse_body(UpdateModelRequest)
        if body.description is None and not body.set_tags and not body.remove_tags:
            raise ValidationError("Nothing to change: send description, set_tags or remove_tags.")
        refuse_system_tags([*body.set_tags, *body.remove_tags])
        repo = self.store.models
        with looking_up("model"):
            if body.description is not None:
                repo.set_description(ModelRef(name), body.description)
            if body.set_tags:
                repo.set_model_tags(name, body.set_tags)
            if body.remove_tags:
                repo.delete_model_tags(name, body.remove_tags)
            record = repo.get_model(name)
        self.respond(ModelSummary, record.to_dict())


class ModelVersionsHandler(RegistryHandler):
    """A model's versions, newest first, with their run's metrics and signature."""

    operations = {
        "get": Operation(
            "One page of a model's versions (newest first) with signature, aliases, tags and "
            "the latest metrics of the run that produced each.",
            ListModelVersionsResponse,
            query=ListModelVersionsQuery,
            errors=(400, 404),
        )
    }

    @web.authenticated
    @authorized
    def get(self, name: str) -> None:
        """Answer a :class:`ListModelVersionsResponse`."""
        check_model_name(name)
        query = self.parse_query(ListModelVersionsQuery)
        self.check_page(query.limit)
        repo = self.store.models
        with looking_up("model"):
            total = repo.count_versions(name)
            records = repo.list_versions(name, limit=query.limit, offset=query.offset)
        rows = version_rows(self.store, records)
        self.respond(
            ListModelVersionsResponse,
            {
                "name": name,
                "versions": rows,
                "total": total,
                "limit": query.limit,
                "offset": query.offset,
                "metric_keys": sorted({k for r in rows for k in r["metrics"]}),
            },
        )


class ModelVersionItemHandler(RegistryHandler):
    """One version with its lineage; or change its description and tags."""

    operations = {
        "get": Operation(
            "One version with its lineage: run -> notebook version -> datasets, and the graph "
            "up to its datasets and down to its aliases and deployments.",
            DescribeModelVersionResponse,
            errors=(400, 404),
        ),
        "patch": Operation(
            "Change a version's description, set or remove its tags (not mlops.*).",
            ModelVersionSummary,
            body=UpdateModelVersionRequest,
            errors=(400, 404),
        ),
    }

    def _version(self, name: str, version: str) -> Any:
        from kernel_magics.core.registry import ModelRef

        ref = ModelRef(check_model_name(name), version=check_version(version))
        with looking_up("model"):
            self.store.models.get_model(name)
        with looking_up("version"):
            return self.store.models.get_version(ref)

    @web.authenticated
    @authorized
    def get(self, name: str, version: str) -> None:
        """Answer a :class:`DescribeModelVersionResponse`."""
        from kernel_magics.core.lineage import lineage as lineage_graph
        from kernel_magics.core.notebooks import get_notebook_version
        from kernel_magics.core.store.summaries import run_summaries

        record = self._version(name, version)
        data = version_rows(self.store, [record])[0]
        lineage: dict[str, Any] = {"run": None, "notebook_version": None, "datasets": []}
        runs = run_summaries(self.store, [record.run_id]) if record.run_id else []
        if runs:
            lineage["run"] = runs[0]
            lineage["datasets"] = self.store.runs.get(record.run_id).datasets
            version_id = runs[0]["notebook_version_id"]
            if version_id is not None:
                try:
                    found = get_notebook_version(self.store, version_id).to_dict()
                except NotFoundError:  # the version was pruned; the run stays
                    found = None
                if found is not None:
                    found["jupyter_path"] = self.jupyter_path(found["path"])
                    found["short_hash"] = found["blob_hash"][:10]
                lineage["notebook_version"] = found
        graph = lineage_graph(self.store, f"model:{record.ref}").to_dict()
        for node in graph["nodes"]:
            if node["kind"] == "notebook":  # a Jupyter path (or a file name): no server paths
                path = node["label"]
                shown = self.jupyter_path(path) or path.replace("\\", "/").rsplit("/", 1)[-1]
                node["label"], node["ref"] = shown, node["ref"].replace(path, shown, 1)
        lineage["graph"] = graph
        data["lineage"] = lineage
        self.respond(DescribeModelVersionResponse, data)

    @web.authenticated
    @authorized
    def patch(self, name: str, version: str) -> None:
        """Apply the changes; answer the version's :class:`ModelVersionSummary`."""
        from kernel_magics.core.registry import ModelRef

        record = self._version(name, version)
        body = self.parse_body(UpdateModelVersionRequest)
        refuse_system_tags([*body.set_tags, *body.remove_tags])
        ref = ModelRef(record.name, version=record.version)
        repo = self.store.models
        if body.description is not None:
            repo.set_description(ref, body.description)
        if body.set_tags:
            repo.set_version_tags(ref, body.set_tags)
        if body.remove_tags:
            repo.delete_version_tags(ref, body.remove_tags)
        self.respond(ModelVersionSummary, version_rows(self.store, [repo.get_version(ref)])[0])
