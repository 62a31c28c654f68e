"""Model cards: one model version explained for people who never open the notebook.

:func:`card_facts` gathers a version's facts from the store: description, intended use and
known limitations (written by people: :func:`update_card`), the training data and its profile,
the run and notebook that produced it, its metrics (the run's, the last model test's on the
holdout, and production's from monitoring), signature and input example, the promotion gates it
passed and its alias history, and what drives its predictions (permutation importance, computed
once and stored with the card). :func:`card_document` lays them out for :mod:`.render`.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import TYPE_CHECKING, Any

from ...errors import ValidationError
from ..views.formatting import short_id, value, when
from ..views.table import Column, Table, table
from .notes import notes_section
from .render import Document

if TYPE_CHECKING:
    from ..registry.records import ModelVersionRecord
    from ..store import Store
    from ..store.model_cards import ModelCardRecord

#: What ``--set`` (and ``PATCH .../card``) can change. The description is the version's own
#: (the one ``mlops models describe`` sets); the others live on the card.
EDITABLE = ("description", "intended_use", "limitations")
#: At most this many characters in one field (the same limit as the REST API's free text).
MAX_TEXT = 10_000
#: Production figures cover this many days, one window per day.
PRODUCTION_DAYS = 7
#: The alias-history reason a promotion gate writes (``promote: metrics.auc >= 0.8; ...``).
GATE_REASON = "promote:"


def _version(store: Store, ref: str) -> ModelVersionRecord:
    from ..registry.records import parse_ref

    parsed = parse_ref(ref)
    if parsed.version is None and parsed.alias is None:
        raise ValidationError(
            f"A model card is for one version: name it as {parsed.name}/VERSION or "
            f"{parsed.name}@ALIAS (e.g. {parsed.name}/1)."
        )
    return store.models.get_version(parsed)


def check_fields(values: dict[str, Any]) -> dict[str, str]:
    """Validate card edits: known fields, text values of at most :data:`MAX_TEXT` characters.

    Raises
    ------
    ValidationError
        Naming the unknown field (and the known ones) or the over-long one.
    """
    if not values:
        raise ValidationError(
            f'Nothing to change: set one of {", ".join(EDITABLE)} (e.g. intended_use="...").'
        )
    cleaned = {}
    for key, text in values.items():
        if key not in EDITABLE:
            raise ValidationError(
                f"{key!r} is not an editable card field; use one of {', '.join(EDITABLE)}."
            )
        text = "" if text is None else str(text)
        if len(text) > MAX_TEXT:
            raise ValidationError(f"{key} is longer than {MAX_TEXT} characters; shorten it.")
        cleaned[key] = text.strip()
    return cleaned


def _card(store: Store, version: ModelVersionRecord) -> ModelCardRecord:
    card = store.model_cards.get(version.id)
    return card if card is not None else store.model_cards.create(version.id, None)


def update_card(store: Store, ref: str, values: dict[str, Any]) -> dict[str, Any]:
    """Set the editable fields of a version's card (``''`` clears one); return the card fields.

    Making the card row does not compute its importance (that needs the model and the holdout,
    and happens when the card is first rendered), so an edit answers at once.

    Raises
    ------
    ValidationError
        For an unknown field, an over-long value, or a reference that names no version.
    ModelNotFoundError
        When the model or the version does not exist.
    """
    from ..registry.records import ModelRef

    cleaned = check_fields(values)
    version = _version(store, ref)
    if "description" in cleaned:
        store.models.set_description(
            ModelRef(version.name, version.version), cleaned["description"]
        )
    _card(store, version)
    card_values = {k: v for k, v in cleaned.items() if k != "description"}
    if card_values:
        store.model_cards.update(version.id, card_values)
    return card_fields(store, ref)


def card_fields(store: Store, ref: str) -> dict[str, Any]:
    """The card as the panel edits it: the three text fields, the importance, the times."""
    version = _version(store, ref)
    card = store.model_cards.get(version.id)
    return {
        "name": version.name,
        "version": version.version,
        "description": version.description,
        "intended_use": card.intended_use if card else None,
        "limitations": card.limitations if card else None,
        "importance": card.importance if card else None,
        "created_at": card.created_at if card else None,
        "updated_at": card.updated_at if card else None,
    }


def _importance(store: Store, version: ModelVersionRecord, card: ModelCardRecord,
                holdout: str | None, target: str | None) -> dict[str, Any]:  # fmt: skip
    """The stored importance; computed now when the card has none or another holdout is asked."""
    from .importance import compute_importance

    stored = card.importance
    if stored is not None and (holdout is None or stored.get("holdout") == holdout):
        return stored
    found = compute_importance(store, version.ref, holdout=holdout, target=target)
    store.model_cards.set_importance(version.id, found)
    return found


def _check_text(check: dict[str, Any]) -> str:
    # "metrics.auc >= 0.8: 0.83 (needs 0.8) passed": the value checked, not only the rule.
    outcome = "passed" if check.get("passed") else "FAILED"
    text = f"{check.get('condition')}: {value(check.get('candidate'))}"
    if check.get("reference") is not None:
        text += f" (against {value(check.get('reference'))})"
    text += f" {outcome}"
    return text + (f" ({check['detail']})" if check.get("detail") else "")


def _gates_and_aliases(store: Store, version: ModelVersionRecord) -> tuple[Table, Table]:
    from ..views.models import alias_history_table

    moves = [m for m in store.models.alias_history(version.name)
             if version.version in (m.to_version, m.from_version)]  # fmt: skip
    evaluations = store.promotion_gates.history(version.id)
    columns = [Column("When", "time", 90), Column("Alias", priority=100),
               Column("Outcome", priority=100), Column("Conditions", priority=80),
               Column("Who", priority=40)]  # fmt: skip
    if evaluations:
        rows = [[when(e.evaluated_at), e.alias, "passed" if e.passed else "failed",
                 "; ".join(_check_text(c) for c in e.checks) or "no conditions", e.actor]
                for e in evaluations]  # fmt: skip
    else:  # a store from before gate results were kept: the passed gates' alias moves
        mine = [m for m in moves if m.to_version == version.version]
        passed = [m for m in mine if (m.reason or "").startswith(GATE_REASON)]
        rows = [[when(m.changed_at), m.alias, "passed",
                 (m.reason or "")[len(GATE_REASON):].strip(), ""] for m in passed]  # fmt: skip
    gate_table = table(
        columns,
        rows,
        "Promotion gates",
        "" if rows else "This version was never put through `mlops promote`.",
    )
    history = alias_history_table(version.name, moves)
    history.note = "" if moves else "No alias ever pointed at this version."
    return gate_table, history


def _production(store: Store, version: ModelVersionRecord) -> Table:
    from ..monitoring.windows import report
    from ..views.monitoring import monitor_table

    until = time.time()
    found = report(store, version.ref, since=until - PRODUCTION_DAYS * 86400, until=until,
                   window_s=86400)  # fmt: skip
    windows = [w for w in found.windows if w.rows or w.values.get("requests")]
    return monitor_table(windows, f"In production, last {PRODUCTION_DAYS} days (per day)")


def _model_tests(store: Store, version: ModelVersionRecord) -> dict[str, Any] | None:
    repository = getattr(store, "model_tests", None)  # engineer H2's model tests (issue 15)
    last = repository.last(version.id) if repository is not None else None
    if last is None:
        return None
    from ..model_tests.report import ModelTestReport

    report = ModelTestReport.from_dict(last.report)
    return {"passed": last.passed, "when": when(last.started_at), "table": report.rows}


def _example_table(version: ModelVersionRecord) -> Table:
    signature = version.signature or {}
    rows = signature.get("example") or []
    inputs = signature.get("inputs") or {}
    if inputs.get("type") == "columns":
        names = [c["name"] for c in inputs["columns"]]
    else:
        names = [f"x{i}" for i in range(int(inputs.get("width") or (len(rows[0]) if rows else 0)))]
    return table(names, rows, "Input example", "" if rows else "No input example stored.")


def _datasets_table(store: Store, used: list[dict[str, Any]]) -> Table:
    """The run's datasets: each with its version (``train@3``, what ``load_dataset`` takes)."""
    from ...errors import NotFoundError

    rows = []
    for d in used:
        try:
            version = store.dataset_versions.get(d["version_id"])
        except NotFoundError:  # a store from before versions were numbered
            version = None
        columns = len(version.schema) if version is not None and version.schema else None
        rows.append((d["name"], version.ref if version is not None else "", d["role"],
                     d.get("rows"), columns, d["hash"][:12]))  # fmt: skip
    return table(
        [Column("Dataset", priority=100), Column("Version", "id", 95), "Role",
         Column("Rows", "number"), Column("Columns", "number", 50), Column("Hash", "id")],
        rows, "Training data", "" if used else "The run recorded no dataset.",
    )  # fmt: skip


def card_facts(
    store: Store, ref: str, *, holdout: str | None = None, target: str | None = None
) -> dict[str, Any]:
    """Every fact of a version's card (making the card, and its importance, on first use).

    Parameters
    ----------
    store : Store
    ref : str
        ``churn/7`` or ``churn@production``.
    holdout : str, optional
        Compute the importance on this labelled dataset version (``NAME@V``) or data file
        instead of the stored input example. Computed once per holdout, then kept.
    target : str, optional
        The holdout's label column.

    Raises
    ------
    ValidationError
        For a reference to a whole model, or a holdout that does not fit the model.
    ModelNotFoundError
        When the model or the version does not exist.
    """
    from ..extras import require
    from ..registry import model_lineage
    from ..views.models import profile_table, signature_table

    require("report", feature="mlops models card")
    version = _version(store, ref)
    card = _card(store, version)
    importance = _importance(store, version, card, holdout, target)
    card = store.model_cards.get(version.id) or card
    lineage = model_lineage(version.ref, store=store)
    run = lineage["run"]
    gates, history = _gates_and_aliases(store, version)
    datasets = _datasets_table(store, lineage["datasets"])
    run_metrics = table(
        [Column("Metric", priority=100), Column("Value", "number")],
        sorted((run or {}).get("metrics", {}).items()),
        "Metrics the training run logged",
        "" if run and run["metrics"] else "No run metrics (the version has no run).",
    )  # fmt: skip
    return {
        "version": version,
        "ref": version.ref,
        "aliases": version.aliases,
        "description": version.description,
        "intended_use": card.intended_use,
        "limitations": card.limitations,
        "card_created": when(card.created_at),
        "run": run,
        "run_label": (
            f"{short_id(run['id'])} ({run['experiment']}/{run['name'] or ''}, {run['status']})"
            if run
            else None
        ),  # fmt: skip
        "notebook": lineage["notebook"],
        "datasets": datasets,
        "profile": profile_table(version.profile) if version.profile else None,
        "run_metrics": run_metrics,
        "model_tests": _model_tests(store, version),
        "production": _production(store, version),
        "signature": signature_table(version.signature),
        "example": _example_table(version),
        "gates": gates,
        "alias_history": history,
        "importance": importance,
        "notes": notes_section(store, "model_version", [version.ref]),
    }


def _importance_table(importance: dict[str, Any]) -> Table:
    return Table(
        [Column("Feature", priority=100), Column("Mean drop", "number", 90),
         Column("Std", "number", 60)],
        [[f["name"], value(f["mean"]), value(f["std"])] for f in importance.get("features", [])],
        "Permutation importance",
    )  # fmt: skip


def card_document(facts: dict[str, Any], title: str | None = None) -> Document:
    """Lay :func:`card_facts`'s facts out as a document (the importance as a bar chart)."""
    from .charts import importance_chart

    doc = Document("card", title or f"Model card: {facts['ref']}", {})
    importance = facts["importance"]
    chart = None
    if importance.get("features"):
        top = importance["features"][:20]
        chart = doc.add_chart(importance_chart(
            [f["name"] for f in top], [f["mean"] for f in top], [f["std"] for f in top]
        ))  # fmt: skip
    generated = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    doc.context = {
        **facts,
        "importance_table": _importance_table(importance),
        "importance_chart": chart,
        "generated": generated,
        "fields": [
            ("Version", facts["ref"]),
            ("Aliases", ", ".join(facts["aliases"]) or "none"),
            ("Flavor / format", f"{facts['version'].flavor} / {facts['version'].format}"),
            ("Registered", when(facts["version"].created_at)),
            ("Training run", facts["run_label"] or "none"),
            ("Notebook", (facts["run"] or {}).get("notebook_path") or "none"),
            ("Notebook version", str((facts["notebook"] or {}).get("id") or "none")),
        ],
    }
    return doc
