"""``/mlops/api/runs`` and ``run_comparisons``: lists, detail, series, artifacts, edits.

Runs are listed (filter, sort, pages), shown with their metric series and artifacts, edited
(tags, note), deleted with their children, and lined up side by side for a comparison.

Every GET here only reads: a run whose process died is *shown* as ``crashed`` by the store's
reads, and persisting that status is the store's one writer's job (a timer in a live process,
``mlops runs reap``, the scheduler), so a read-only database can serve the panel.
"""

from __future__ import annotations

import json
import os
from urllib.parse import quote

from jupyter_server.auth.decorator import authorized
from tornado import web

from kernel_magics.core.names import NOTE_RUN, Tag, run_warnings
from kernel_magics.errors import (
    KernelMagicsError,
    NotFoundError,
    RunNotFoundError,
    RunStillRunningError,
    ValidationError,
)

from ..base import MlopsHandler
from ..contract import Operation
from ..models import (
    CompareRunsQuery,
    CompareRunsResponse,
    DeleteRunResponse,
    DescribeMetricQuery,
    DescribeMetricResponse,
    DescribeRunResponse,
    DownloadArtifactQuery,
    ListRunArtifactsResponse,
    ListRunMetricsResponse,
    ListRunsQuery,
    ListRunsResponse,
    RunSummary,
    UpdateRunRequest,
)

#: Media types a browser could execute if opened from the Jupyter origin.
ACTIVE_TYPES = ("text/html", "image/svg+xml", "application/xhtml+xml", "text/xml",
                "application/xml", "application/javascript", "text/javascript")  # fmt: skip


class RunsHandler(MlopsHandler):
    """List runs: one experiment's or one notebook's, filtered, sorted, a page at a time."""

    operations = {
        "get": Operation(
            "One page of runs, filtered and sorted in SQL.",
            ListRunsResponse,
            query=ListRunsQuery,
            errors=(400, 404),
        )
    }

    @web.authenticated
    @authorized
    def get(self) -> None:
        """Answer a :class:`ListRunsResponse`."""
        from kernel_magics.core.store.search import parse_filter
        from kernel_magics.core.store.summaries import run_summaries

        query = self.parse_query(ListRunsQuery)
        limit_max = self.settings.get("km_max_page_size", 500)
        if query.limit > limit_max:
            raise ValidationError(f"limit must be at most {limit_max}; page with offset instead.")
        parse_filter(query.filter)  # report mistakes at the user's own positions
        notebooks = self.notebook_keys(query.notebook) if query.notebook else None
        if query.experiment:
            self.store.experiments.id_of(query.experiment)  # 404 for an unknown experiment
        parents = [find_run(self.store, query.parent, "parent")] if query.parent else None
        page = self.store.search_runs(
            experiments_=[query.experiment] if query.experiment else None,
            notebook_paths=notebooks,
            parent_run_ids=parents,
            filter=query.filter,
            order_by=query.order_by or None,
            limit=query.limit,
            offset=query.offset,
            count=True,
        )
        rows = run_summaries(self.store, page.run_ids)
        self.respond(
            ListRunsResponse,
            {
                "runs": rows,
                "total": page.total,
                "limit": query.limit,
                "offset": query.offset,
                "metric_keys": sorted({k for r in rows for k in r["metrics"]}),
                "param_keys": sorted({k for r in rows for k in r["params"]}),
            },
        )


def find_run(store, run_id: str, field: str = "run id") -> str:
    """Resolve a run id or unique prefix; a 404 that names ``field``, not the input."""
    try:
        return store.runs.resolve_id(run_id)
    except RunNotFoundError:
        raise RunNotFoundError(
            f"The {field} names no run (or several): give a full run id or a unique prefix of "
            "4+ hex characters, as listed by GET /mlops/api/runs."
        ) from None


class RunItemHandler(MlopsHandler):
    """One run with everything logged into it; edit its tags and note; delete it."""

    operations = {
        "get": Operation(
            "One run with params, latest metrics, tags, artifacts, environment, notebook "
            "version and warnings.",
            DescribeRunResponse,
            errors=(404,),
        ),
        "patch": Operation(
            "Set or remove a run's tags and set or clear its note (the mlops.note tag).",
            RunSummary,
            body=UpdateRunRequest,
            errors=(400, 404),
            description="Keys starting with `mlops.` are the system's and are refused (400).",
        ),
        "delete": Operation(
            "Delete a run and its child runs with everything they logged.",
            DeleteRunResponse,
            errors=(404, 409),
            description=(
                "409 while the run or a child run is still running (its process alive). "
                "Blobs stay until `mlops gc`."
            ),
        ),
    }

    @web.authenticated
    @authorized
    def patch(self, run_id: str) -> None:
        """Apply the tag and note changes; answer the run's :class:`RunSummary`."""
        from kernel_magics.core.store.summaries import run_summaries

        run_id = find_run(self.store, run_id)
        body = self.parse_body(UpdateRunRequest)
        if any(k.startswith("mlops.") for k in [*body.set_tags, *body.remove_tags]):
            raise ValidationError(
                "Tags starting with 'mlops.' are the system's; choose another key (the note "
                "has its own field, note)."
            )
        both = set(body.set_tags) & set(body.remove_tags)
        if both:
            raise ValidationError("A tag cannot be both set and removed in one request.")
        to_set = dict(body.set_tags)
        to_remove = list(body.remove_tags)
        if body.note:
            from kernel_magics.core.store.notes import check_note

            check_note(NOTE_RUN, body.note)  # before any change: a bad note changes nothing
        elif body.note == "":
            to_remove.append(Tag.NOTE)
        self.store.runs.set_tags(run_id, to_set)
        self.store.runs.delete_tags(run_id, to_remove)
        if body.note:  # one mechanism: a note in the notes table (it sets mlops.note too)
            self.store.notes.add(NOTE_RUN, run_id, body.note)
        self.respond(RunSummary, run_summaries(self.store, [run_id])[0])

    @web.authenticated
    @authorized
    def delete(self, run_id: str) -> None:
        """Answer a :class:`DeleteRunResponse` (409 while it runs)."""
        try:
            deleted = self.store.runs.delete(find_run(self.store, run_id))
        except RunStillRunningError:
            raise RunStillRunningError(
                "The run (or one of its child runs) is still running: deleting it would make "
                "its process lose what it logs from now on. Wait for it to end or stop it, "
                "then delete it (`mlops runs rm --force` deletes it anyway)."
            ) from None
        self.respond(DeleteRunResponse, {"deleted": deleted})

    @web.authenticated
    @authorized
    def get(self, run_id: str) -> None:
        """Answer a :class:`DescribeRunResponse`."""
        from kernel_magics.core.notebooks import get_notebook_version

        record = self.store.runs.get(run_id)
        data = record.to_dict()
        data["metric_keys"] = sorted(record.metrics)
        data["warnings"] = run_warnings(record.tags)
        data["notebook_version"] = None
        if record.notebook_version_id is not None:
            version = get_notebook_version(self.store, record.notebook_version_id).to_dict()
            version["jupyter_path"] = self.jupyter_path(version["path"])
            version["short_hash"] = version["blob_hash"][:10]
            data["notebook_version"] = version
        data["jupyter_path"] = self.jupyter_path(record.notebook_path)
        data["environment"] = None
        if record.environment_hash:
            try:
                raw = self.store.blobs.get_bytes(record.environment_hash)
                data["environment"] = json.loads(raw)
            except (KernelMagicsError, ValueError) as exc:
                data["warnings"].append(f"The run's environment could not be read: {exc}")
        self.respond(DescribeRunResponse, data)


class RunMetricsHandler(MlopsHandler):
    """The names of the metrics a run logged."""

    operations = {
        "get": Operation(
            "The names of the metrics a run logged.", ListRunMetricsResponse, errors=(404,)
        )  # fmt: skip
    }

    @web.authenticated
    @authorized
    def get(self, run_id: str) -> None:
        """Answer a :class:`ListRunMetricsResponse`."""
        run_id = self.store.runs.resolve_id(run_id)
        self.store.runs.get(run_id)  # 404 for an unknown run
        keys = self.store.runs.metric_keys(run_id)
        self.respond(ListRunMetricsResponse, {"run_id": run_id, "keys": keys})


class RunMetricItemHandler(MlopsHandler):
    """One metric's series, evenly thinned when longer than ``max_points``."""

    operations = {
        "get": Operation(
            "One metric series in step order, evenly thinned to max_points (the last point is "
            "kept).",
            DescribeMetricResponse,
            query=DescribeMetricQuery,
            errors=(400, 404),
        )
    }

    @web.authenticated
    @authorized
    def get(self, run_id: str, key: str) -> None:
        """Answer a :class:`DescribeMetricResponse`."""
        query = self.parse_query(DescribeMetricQuery)
        limit = self.settings.get("km_max_metric_points", 2000)
        max_points = min(query.max_points or limit, limit)
        run_id = self.store.runs.resolve_id(run_id)
        points = self.store.runs.metric_history(run_id, key, max_points=max_points)
        if not points and key not in self.store.runs.metric_keys(run_id):
            raise NotFoundError(f"Run {run_id[:8]} logged no metric {key!r}.")
        self.respond(
            DescribeMetricResponse,
            {"run_id": run_id, "key": key, "max_points": max_points, "points": points},
        )


class RunArtifactsHandler(MlopsHandler):
    """The artifacts of a run (path, size, media type, hash)."""

    operations = {
        "get": Operation("The artifacts of a run.", ListRunArtifactsResponse, errors=(404,))
    }

    @web.authenticated
    @authorized
    def get(self, run_id: str) -> None:
        """Answer a :class:`ListRunArtifactsResponse`."""
        run_id = self.store.runs.resolve_id(run_id)
        self.store.runs.get(run_id)  # 404 for an unknown run
        artifacts = self.store.artifacts.list(run_id)
        self.respond(ListRunArtifactsResponse, {"run_id": run_id, "artifacts": artifacts})


class RunArtifactItemHandler(MlopsHandler):
    """Download one artifact with its content type (hash-checked)."""

    operations = {
        "get": Operation(
            "Download an artifact (hash-checked) with its content type.",
            None,
            query=DownloadArtifactQuery,
            errors=(400, 404),
            media_type="*/*",
            description=(
                "Served with `X-Content-Type-Options: nosniff` and a sandboxing "
                "Content-Security-Policy. HTML, SVG, XML and JavaScript are always sent as "
                "attachments; `download=1` forces it."
            ),
        )
    }

    @web.authenticated
    @authorized
    def get(self, run_id: str, path: str) -> None:
        """Send the artifact's bytes; ``?download=1`` asks the browser to save it."""
        from kernel_magics.core.store.artifacts import normalize_artifact_path

        query = self.parse_query(DownloadArtifactQuery)
        clean = normalize_artifact_path(path)  # 400 for '..', absolute or empty paths
        run_id = self.store.runs.resolve_id(run_id)
        data, media_type = self.store.artifacts.read(run_id, clean)
        media_type = media_type or "application/octet-stream"
        self.set_header("X-Content-Type-Options", "nosniff")
        # Artifacts are user content served from the Jupyter origin: never let one run script.
        self.set_header("Content-Security-Policy", "sandbox; default-src 'none'; img-src data:; "
                        "style-src 'unsafe-inline'")  # fmt: skip
        name = quote(os.path.basename(clean), safe="")
        attach = query.download not in ("0", "", "false")
        active = media_type.split(";")[0].strip().lower() in ACTIVE_TYPES
        disposition = "attachment" if attach or active else "inline"
        self.set_header("Content-Disposition", f"{disposition}; filename*=UTF-8''{name}")
        self.finish(data, set_content_type=media_type)


class RunComparisonsHandler(MlopsHandler):
    """Runs side by side: params and metrics with the differing ones first, cell sources."""

    operations = {
        "get": Operation(
            "Line up 2-100 runs: their table rows with the tracked cell's source, params and "
            "latest metrics by run (differing rows first), metric names.",
            CompareRunsResponse,
            query=CompareRunsQuery,
            errors=(400, 404),
            description=(
                "curves=acc,loss adds those metrics' series for every run in the same answer "
                "(thinned to max_points), instead of one GET runs/{run_id}/metrics/{key} per "
                "run and metric; the notebook diff comes from GET notebook_diffs with the "
                "runs' notebook_version_id."
            ),
        )
    }

    @web.authenticated
    @authorized
    def get(self) -> None:
        """Answer a :class:`CompareRunsResponse`."""
        from kernel_magics.core.compare import side_by_side

        query = self.parse_query(CompareRunsQuery)
        full = self.store.runs.existing(r for r in query.ids if len(r) == 32)
        ids = [
            r if r in full else find_run(self.store, r, f"ids[{i}]")
            for i, r in enumerate(query.ids)
        ]
        data = side_by_side(self.store, ids)
        for row in data["runs"]:
            row["jupyter_path"] = self.jupyter_path(row["notebook_path"])
        limit = self.settings.get("km_max_metric_points", 2000)
        max_points = min(query.max_points or limit, limit)
        run_ids = [row["id"] for row in data["runs"]]
        data["curves"] = []
        for key in dict.fromkeys(query.curves):
            series = self.store.runs.metric_histories(run_ids, key, max_points=max_points)
            data["curves"] += [
                {"key": key, "run_id": run_id, **series[run_id]}
                for run_id in run_ids
                if run_id in series
            ]
        self.respond(CompareRunsResponse, data)
