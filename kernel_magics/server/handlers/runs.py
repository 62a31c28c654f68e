"""``/mlops/api/runs``: run lists (filter, sort, pages), run detail, metric series, artifacts.

Every handler here only reads: a run whose process died is *shown* as ``crashed`` by the store's
reads, and persisting that status is the store's one writer's job (a timer in a live process,
``mlops runs reap``, the scheduler), so a read-only database can serve the panel.
"""

from __future__ import annotations

import json
import os
from urllib.parse import quote

from jupyter_server.auth.decorator import authorized
from tornado import web

from kernel_magics.core.names import run_warnings
from kernel_magics.errors import KernelMagicsError, NotFoundError, ValidationError

from ..base import MlopsHandler
from ..contract import Operation
from ..models import (
    DescribeMetricQuery,
    DescribeMetricResponse,
    DescribeRunResponse,
    DownloadArtifactQuery,
    ListRunArtifactsResponse,
    ListRunMetricsResponse,
    ListRunsQuery,
    ListRunsResponse,
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
        page = self.store.search_runs(
            experiments_=[query.experiment] if query.experiment else None,
            notebook_paths=notebooks,
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


class RunItemHandler(MlopsHandler):
    """One run with everything logged into it."""

    operations = {
        "get": Operation(
            "One run with params, latest metrics, tags, artifacts, environment, notebook "
            "version and warnings.",
            DescribeRunResponse,
            errors=(404,),
        )
    }

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
