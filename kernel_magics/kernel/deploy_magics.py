"""``%mlops models``, ``%mlops deploy``, ``%mlops deployments`` and ``%mlops rollback``.

Thin handlers over :mod:`kernel_magics.core.registry` and
:mod:`kernel_magics.core.serving.deployments`; each returns a :class:`~.reports.Report` (HTML in
the notebook, text elsewhere, the data in ``.data``) so ``d = %mlops deploy churn@production``
also hands the deployment to code.
"""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

from .parsers import MagicArgumentParser, split_line, wants_help
from .reports import Report

_STYLE = "<style>.mlops-report td,.mlops-report th{padding:2px 8px;text-align:left}</style>"


def _when(ts: float | None) -> str:
    return "" if ts is None else dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


def _report(
    data: Any, title: str, head: list[str], rows: list[list[Any]], note: str = ""
) -> Report:
    cells = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join(
        "<tr>"
        + "".join(f"<td>{html.escape('' if c is None else str(c))}</td>" for c in row)
        + "</tr>"
        for row in rows
    )
    html_text = (
        f"{_STYLE}<div class='mlops-report'><b>{html.escape(title)}</b>"
        f"<table class='mlops-report'><tr>{cells}</tr>{body}</table>"
        f"{f'<p>{html.escape(note)}</p>' if note else ''}</div>"
    )
    lines = [title, "  ".join(head)] + [
        "  ".join("" if c is None else str(c) for c in r) for r in rows
    ]
    if note:
        lines.append(note)
    return Report(data, html_text, "\n".join(lines))


def _parse(parser_factory, line: str):
    tokens = split_line(line)
    if wants_help(tokens):
        print(parser_factory().format_help())
        return None
    return parser_factory().parse_args(tokens)


# -- %mlops models ----------------------------------------------------------------------------
def models_parser() -> MagicArgumentParser:
    """Build the parser of ``%mlops models``."""
    p = MagicArgumentParser(
        prog="%mlops models", description="Registered models, one model's versions, or a version."
    )
    p.add_argument("ref", nargs="?", help="churn (its versions), churn/3 or churn@production.")
    p.add_argument("--history", action="store_true", help="Show the model's alias history.")
    return p


def handle_models(magics: Any, line: str) -> Report | None:
    """List models, a model's versions (with ``--history``) or one version's details."""
    ns = _parse(models_parser, line)
    if ns is None:
        return None
    from ..core import registry

    if ns.ref is None:
        models = registry.list_models()
        rows = [
            [
                m.name,
                m.version_count,
                m.latest_version,
                ", ".join(f"{a}=v{v}" for a, v in m.aliases.items()),
                _when(m.updated_at),
            ]
            for m in models
        ]
        return _report(
            [m.to_dict() for m in models],
            "Models",
            ["Model", "Versions", "Latest", "Aliases", "Updated"],
            rows,
            ""
            if models
            else "No models yet: mlops.log_model(model, 'name', input_example=X) registers one.",
        )
    ref = registry.parse_ref(ns.ref)
    if ref.version is None and ref.alias is None and not ns.history:
        versions = registry.list_model_versions(ref.name)
        rows = [
            [
                v.version,
                ", ".join(v.aliases),
                v.flavor,
                v.format,
                (v.run_id or "")[:8],
                _when(v.created_at),
                v.description or "",
            ]
            for v in versions
        ]
        return _report(
            [v.to_dict() for v in versions],
            f"{ref.name}: versions",
            ["Version", "Aliases", "Flavor", "Format", "Run", "Created", "Description"],
            rows,
        )
    if ns.history:
        moves = registry.alias_history(ref.name, ref.alias)
        rows = [
            [
                _when(m.changed_at),
                m.alias,
                m.from_version,
                m.to_version or "(deleted)",
                m.reason or "",
            ]
            for m in moves
        ]
        return _report(
            [m.to_dict() for m in moves],
            f"{ref.name}: alias history",
            ["When", "Alias", "From", "To", "Reason"],
            rows,
        )
    version = registry.get_model_version(str(ref))
    lineage = registry.model_lineage(version.ref)
    inputs = version.signature["inputs"] if version.signature else None
    if inputs and inputs["type"] == "columns":
        rows = [[c["name"], c["type"]] for c in inputs["columns"]]
    elif inputs:
        rows = [[f"tensor[{inputs['width']}]", inputs["dtype"]]]
    else:
        rows = []
    run = lineage["run"]
    note = (
        f"aliases: {', '.join(version.aliases) or '-'}; {version.flavor}/{version.format}; "
        f"run: {run['id'][:8] + ' ' + str(run['metrics']) if run else '-'}"
    )
    return _report(
        {**version.to_dict(), "lineage": lineage},
        f"{version.ref} signature",
        ["Column", "Type"],
        rows,
        note,
    )


# -- %mlops deploy / deployments / rollback ---------------------------------------------------
def deploy_parser() -> MagicArgumentParser:
    """Build the parser of ``%mlops deploy``."""
    p = MagicArgumentParser(
        prog="%mlops deploy", description="Start a background model server (or swap it in place)."
    )
    p.add_argument("ref", help="What to serve: churn@production, churn/3 or churn.")
    p.add_argument("--port", type=int, help="Port (the first free one from 5005 when omitted).")
    p.add_argument("--host", default="127.0.0.1", help="Interface to bind (default 127.0.0.1).")
    p.add_argument(
        "--allow-pickle",
        action="store_true",
        help="Allow a version stored with pickle/cloudpickle.",
    )
    p.add_argument(
        "--sample-rate",
        type=float,
        default=0.1,
        help="Fraction of requests kept in the prediction log (default 0.1).",
    )
    p.add_argument(
        "--stop",
        action="store_true",
        help="Stop the running server(s) of REF instead of starting one.",
    )
    return p


def _deployment_report(deps: list, title: str, note: str = "") -> Report:
    rows = [[d.id, d.ref, d.url, d.status, d.pid, _when(d.created_at)] for d in deps]
    return _report(
        [d.to_dict() for d in deps],
        title,
        ["Id", "Serves", "URL", "Status", "Pid", "Started"],
        rows,
        note,
    )


def handle_deploy(magics: Any, line: str) -> Report | None:
    """Deploy (or with ``--stop``, stop) a model server; show where it listens."""
    ns = _parse(deploy_parser, line)
    if ns is None:
        return None
    from ..core.serving import deployments

    if ns.stop:
        return _deployment_report(deployments.stop_deployment(ns.ref), f"Stopped {ns.ref}")
    dep = deployments.deploy(
        ns.ref, host=ns.host, port=ns.port, allow_pickle=ns.allow_pickle, sample_rate=ns.sample_rate
    )
    return _deployment_report(
        [dep],
        f"Deployed {dep.ref}",
        f"POST {dep.url}/predict with a list of records, or "
        f"{dep.url}/invocations with an MLflow payload.",
    )


def deployments_parser() -> MagicArgumentParser:
    """Build the parser of ``%mlops deployments``."""
    p = MagicArgumentParser(prog="%mlops deployments", description="Model servers.")
    p.add_argument("model", nargs="?", help="Only deployments of this model.")
    p.add_argument("--all", action="store_true", help="Include stopped and failed deployments.")
    return p


def handle_deployments(magics: Any, line: str) -> Report | None:
    """List deployments (running ones unless ``--all``)."""
    ns = _parse(deployments_parser, line)
    if ns is None:
        return None
    from ..core.serving.deployments import list_deployments

    deps = list_deployments(ns.model, all=ns.all)
    return _deployment_report(deps, "Deployments", "" if deps else "No deployments.")


def rollback_parser() -> MagicArgumentParser:
    """Build the parser of ``%mlops rollback``."""
    p = MagicArgumentParser(
        prog="%mlops rollback", description="Move an alias back and redeploy it without downtime."
    )
    p.add_argument("name", help="The model.")
    p.add_argument("--alias", default="production", help="Alias to roll back (default production).")
    p.add_argument("--to-version", type=int, help="Go to this version instead of the previous one.")
    return p


def handle_rollback(magics: Any, line: str) -> Report | None:
    """Roll ``NAME@ALIAS`` back and redeploy its running servers."""
    ns = _parse(rollback_parser, line)
    if ns is None:
        return None
    from ..core.serving.deployments import rollback

    result = rollback(ns.name, ns.alias, to_version=ns.to_version)
    move = result.move
    return _deployment_report(
        result.deployments,
        f"{ns.name}@{ns.alias}: v{move.from_version} -> v{move.to_version}",
        "" if result.deployments else "No running server to redeploy.",
    )
