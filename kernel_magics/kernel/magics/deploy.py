"""``%mlops deploy``, ``%mlops deployments`` and ``%mlops rollback``.

Thin handlers over :mod:`kernel_magics.core.serving.deployments`; each returns a
:class:`~kernel_magics.kernel.widgets.report.Report` of the deployments table the CLI prints
too (:mod:`kernel_magics.core.views.deployments`): HTML in the notebook, text elsewhere, the
records in ``.data``, so ``d = %mlops deploy churn@production`` also hands the deployment to code.
"""

from __future__ import annotations

from typing import Any

from ..parsers import MagicArgumentParser, parsed_with
from ..widgets.report import Report, table_report


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
        "--token",
        help="Bearer token every request but /health needs (required beyond 127.0.0.1); prefer "
        "$MLOPS_SERVE_TOKEN: a token typed in a cell is saved with the notebook.",
    )
    p.add_argument(
        "--lenient",
        action="store_true",
        help="Like MLflow: drop unknown columns, convert numbers sent as strings.",
    )
    p.add_argument(
        "--expose-example",
        action="store_true",
        help="Let GET /metadata show the input example's rows (only the schema otherwise).",
    )
    p.add_argument(
        "--stop",
        action="store_true",
        help="Stop the running server(s) of REF instead of starting one.",
    )
    return p


def _deployment_report(deps: list, title: str, note: str = "") -> Report:
    from ...core.views.deployments import deployments_table

    return table_report([d.to_dict() for d in deps], deployments_table(deps, title, note))


@parsed_with(deploy_parser)
def handle_deploy(magics: Any, ns: Any) -> Report:
    """Deploy (or with ``--stop``, stop) a model server; show where it listens."""
    from ...core.serving import deployments

    if ns.stop:
        return _deployment_report(deployments.stop_deployment(ns.ref), f"Stopped {ns.ref}")
    dep = deployments.deploy(
        ns.ref,
        host=ns.host,
        port=ns.port,
        allow_pickle=ns.allow_pickle,
        sample_rate=ns.sample_rate,
        token=ns.token,
        lenient=ns.lenient,
        expose_example=ns.expose_example,
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


@parsed_with(deployments_parser)
def handle_deployments(magics: Any, ns: Any) -> Report:
    """List deployments (running ones unless ``--all``)."""
    from ...core.serving.deployments import list_deployments

    deps = list_deployments(ns.model, all=ns.all)
    return _deployment_report(deps, "Deployments")


def rollback_parser() -> MagicArgumentParser:
    """Build the parser of ``%mlops rollback``."""
    p = MagicArgumentParser(
        prog="%mlops rollback", description="Move an alias back and redeploy it without downtime."
    )
    p.add_argument("name", help="The model.")
    p.add_argument("--alias", default="production", help="Alias to roll back (default production).")
    p.add_argument("--to-version", type=int, help="Go to this version instead of the previous one.")
    return p


@parsed_with(rollback_parser)
def handle_rollback(magics: Any, ns: Any) -> Report:
    """Roll ``NAME@ALIAS`` back and redeploy its running servers."""
    from ...core.serving.deployments import rollback

    result = rollback(ns.name, ns.alias, to_version=ns.to_version)
    move = result.move
    return _deployment_report(
        result.deployments,
        f"{ns.name}@{ns.alias}: v{move.from_version} -> v{move.to_version}",
        "" if result.deployments else "No running server to redeploy.",
    )
