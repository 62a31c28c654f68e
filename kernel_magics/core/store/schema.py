"""The relational schema, as SQLAlchemy Core tables.

This module is what queries are written against. The migrations in ``migrations/versions``
create exactly these tables (a test compares the migrated database with this metadata), and an
empty store is built with ``metadata.create_all`` plus a stamp of the head revision, the
pattern alembic documents for a database built from scratch.

Times are UTC seconds since the epoch as floats: cheap to write, to compare and to index, the
same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from ..names import (  # noqa: F401 - re-exported for the queries written against this module
    CRASHED,
    FAILED,
    FINISHED,
    KILLED,
    RUN_SOURCES,
    RUN_STATUSES,
    RUNNING,
    TERMINAL_STATUSES,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

RUN_ID = String(32)  # uuid4 hex
HASH = String(64)  # blake3 hex digest


experiments = Table(
    "experiments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(255), nullable=False, unique=True),
    Column("description", Text),
    Column("created_at", Float, nullable=False),
)

# Free-form tags of an experiment (MLflow's experiment tags come in and go out here).
experiment_tags = Table(
    "experiment_tags",
    metadata,
    Column(
        "experiment_id", Integer, ForeignKey("experiments.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("key", String(255), primary_key=True),
    Column("value", Text, nullable=False),
)

blobs = Table(
    "blobs",
    metadata,
    Column("hash", HASH, primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("created_at", Float, nullable=False),
)

notebook_versions = Table(
    "notebook_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("path", Text, nullable=False),
    Column("blob_hash", HASH, ForeignKey("blobs.hash"), nullable=False),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("path", "blob_hash"),
    Index(None, "path", "created_at"),
)

runs = Table(
    "runs",
    metadata,
    Column("id", RUN_ID, primary_key=True),
    Column("experiment_id", Integer, ForeignKey("experiments.id"), nullable=False),
    Column("name", String(255)),
    Column("status", String(16), nullable=False),
    Column("source", String(16), nullable=False),
    Column("parent_run_id", RUN_ID, ForeignKey("runs.id")),
    Column("notebook_path", Text),
    Column("notebook_version_id", Integer, ForeignKey("notebook_versions.id")),
    Column("start_time", Float, nullable=False),
    Column("end_time", Float),
    Column("heartbeat_at", Float),
    Column("pid", Integer),
    Column("hostname", String(255)),
    Column("user", String(255)),
    Column("environment_hash", HASH, ForeignKey("blobs.hash")),
    Column("error", Text),
    Index(None, "experiment_id", "start_time"),
    Index(None, "status"),
    Index(None, "parent_run_id"),
    Index(None, "notebook_version_id"),
)

params = Table(
    "params",
    metadata,
    Column("run_id", RUN_ID, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("value", Text, nullable=False),
    Index(None, "key", "value"),
)

tags = Table(
    "tags",
    metadata,
    Column("run_id", RUN_ID, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("value", Text, nullable=False),
    Index(None, "key", "value"),
)

# One row per (run, metric key): the series' id and its latest value. Search, sort and tables
# read this; the points themselves reference the series by its integer id.
latest_metrics = Table(
    "latest_metrics",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", RUN_ID, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("key", String(255), nullable=False),
    Column("value", Float, nullable=False),
    Column("step", BigInteger, nullable=False),
    Column("timestamp", Float, nullable=False),
    UniqueConstraint("run_id", "key"),
    Index(None, "key", "value"),
)

# Every logged point, append-only; (series, step) may repeat. Keyed by the integer series id
# rather than (run id, key) text, and without a foreign-key check per row: this is the hot
# insert path (100,000 points per flush must stay well under a second). Points are deleted
# with their series by RunRepository.delete.
metrics = Table(
    "metrics",
    metadata,
    Column("series_id", Integer, nullable=False),
    Column("step", BigInteger, nullable=False),
    Column("timestamp", Float, nullable=False),
    Column("value", Float, nullable=False),
    Index(None, "series_id", "step"),
)

artifacts = Table(
    "artifacts",
    metadata,
    Column("run_id", RUN_ID, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("path", Text, primary_key=True),
    Column("blob_hash", HASH, ForeignKey("blobs.hash"), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("media_type", String(255)),
    Column("created_at", Float, nullable=False),
    Index(None, "blob_hash"),
)

datasets = Table(
    "datasets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(255), nullable=False, unique=True),
    Column("created_at", Float, nullable=False),
)

dataset_versions = Table(
    "dataset_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dataset_id", Integer, ForeignKey("datasets.id"), nullable=False),
    Column("hash", HASH, nullable=False),
    Column("size", BigInteger),
    Column("rows", BigInteger),
    Column("schema", Text),  # JSON: [{"name": ..., "dtype": ...}, ...]
    Column("source", Text),  # the path or description it was read from
    Column("created_at", Float, nullable=False),
    UniqueConstraint("dataset_id", "hash"),
)

run_datasets = Table(
    "run_datasets",
    metadata,
    Column("run_id", RUN_ID, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("dataset_version_id", Integer, ForeignKey("dataset_versions.id"), primary_key=True),
    Column("role", String(32), primary_key=True),  # "input" (read) or "output" (written)
)

# --- model registry and serving (issue 6) -------------------------------------------------

models = Table(
    "models",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(255), nullable=False, unique=True),
    Column("description", Text),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

# Tags of a model as a whole (team, owner, use); a version's own tags are model_version_tags.
model_tags = Table(
    "model_tags",
    metadata,
    Column("model_id", Integer, ForeignKey("models.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("value", Text, nullable=False),
)

model_versions = Table(
    "model_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model_id", Integer, ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("run_id", RUN_ID, ForeignKey("runs.id", ondelete="SET NULL")),
    Column("blob_hash", HASH, ForeignKey("blobs.hash"), nullable=False),
    Column("flavor", String(64), nullable=False),  # e.g. "sklearn"
    Column("format", String(32), nullable=False),  # "skops", "pickle", "cloudpickle"
    Column("signature", Text),  # JSON
    Column("profile", Text),  # JSON: training-data profile for drift monitoring
    Column("description", Text),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("model_id", "version"),
)

model_version_tags = Table(
    "model_version_tags",
    metadata,
    Column(
        "model_version_id",
        Integer,
        ForeignKey("model_versions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("key", String(255), primary_key=True),
    Column("value", Text, nullable=False),
)

model_aliases = Table(
    "model_aliases",
    metadata,
    Column("model_id", Integer, ForeignKey("models.id", ondelete="CASCADE"), primary_key=True),
    Column("alias", String(255), primary_key=True),
    Column("model_version_id", Integer, ForeignKey("model_versions.id"), nullable=False),
    Column("updated_at", Float, nullable=False),
)

model_alias_history = Table(
    "model_alias_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model_id", Integer, ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
    Column("alias", String(255), nullable=False),
    Column("from_version_id", Integer, ForeignKey("model_versions.id")),
    Column("to_version_id", Integer, ForeignKey("model_versions.id")),
    Column("changed_at", Float, nullable=False),
    Column("reason", Text),
    Column("actor", String(255)),  # who moved it; NULL for moves older than the audit trail
    Index(None, "model_id", "alias", "changed_at"),
)

deployments = Table(
    "deployments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model_id", Integer, ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
    Column("model_version_id", Integer, ForeignKey("model_versions.id"), nullable=False),
    Column("alias", String(255)),  # the alias it serves, if deployed by alias
    Column("host", String(255), nullable=False),
    Column("port", Integer, nullable=False),
    Column("pid", Integer),
    Column("hostname", String(255)),
    Column("status", String(16), nullable=False),  # starting, running, stopped, failed
    Column("log_path", Text),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Index(None, "model_id", "status"),
)

deployment_events = Table(
    "deployment_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "deployment_id", Integer, ForeignKey("deployments.id", ondelete="CASCADE"), nullable=False
    ),
    Column("event", String(32), nullable=False),
    Column("detail", Text),
    Column("at", Float, nullable=False),
    Index(None, "deployment_id", "at"),
)

prediction_log = Table(
    "prediction_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "deployment_id", Integer, ForeignKey("deployments.id", ondelete="CASCADE"), nullable=False
    ),
    Column("model_version_id", Integer, ForeignKey("model_versions.id")),
    Column("at", Float, nullable=False),
    Column("latency_ms", Float, nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("inputs", Text),  # JSON, sampled
    Column("outputs", Text),  # JSON, sampled
    Column("error", Text),
    Index(None, "deployment_id", "at"),
)

# --- schedules (issue 7) --------------------------------------------------------------------

schedules = Table(
    "schedules",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(255), nullable=False, unique=True),
    Column("notebook_path", Text, nullable=False),
    Column("cron", String(255), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("parameters", Text),  # JSON object
    Column("experiment", String(255)),
    Column("kernel", String(255)),
    Column("timeout", Float),
    Column("retries", Integer, nullable=False),
    Column("retry_delay", Float, nullable=False),
    Column("catchup", String(16), nullable=False),  # latest, all, none
    Column("notify_command", Text),
    Column("notify_webhook", Text),
    Column("paused", Integer, nullable=False),
    Column("start_at", Float, nullable=False),  # first slot considered (UTC epoch)
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

schedule_slots = Table(
    "schedule_slots",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("schedule_id", Integer, ForeignKey("schedules.id", ondelete="CASCADE"), nullable=False),
    Column("slot_time", Float, nullable=False),  # UTC epoch of the cron fire time
    Column("trigger", String(16), nullable=False),  # cron, or manual (mlops schedule run-now)
    # pending, running, retrying, finished, failed, crashed, killed, missed
    Column("status", String(16), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("run_id", RUN_ID, ForeignKey("runs.id", ondelete="SET NULL")),
    Column("lease_owner", String(255)),
    Column("lease_expires_at", Float),
    Column("next_attempt_at", Float),
    Column("error", Text),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    UniqueConstraint("schedule_id", "slot_time"),
    Index(None, "status", "next_attempt_at"),
)

schedule_slot_runs = Table(
    "schedule_slot_runs",
    metadata,
    Column(
        "slot_id", Integer, ForeignKey("schedule_slots.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("attempt", Integer, primary_key=True),
    Column("run_id", RUN_ID, ForeignKey("runs.id", ondelete="SET NULL")),
    Column("status", String(16), nullable=False),
    Column("error", Text),
    Column("started_at", Float, nullable=False),
    Column("ended_at", Float),
)

# A named lease: on SQLite one scheduler holds "scheduler" and the others stand by.
leases = Table(
    "leases",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("owner", String(255), nullable=False),
    Column("expires_at", Float, nullable=False),
)

# Feature tables live in their own modules on the same metadata; importing them here keeps
# ``metadata`` complete for create_all and for the migration check.
from . import (  # noqa: E402, F401
    schema_alerts,
    schema_audit,
    schema_automations,
    schema_cards,
    schema_challengers,
    schema_datasets,
    schema_gates,
    schema_model_tests,
    schema_monitoring,
    schema_quality,
)
