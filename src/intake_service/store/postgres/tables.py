"""PostgreSQL tables. Alembic migrations in migrations/ create them; the app never calls create_all."""

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Experiment(Base):
    __tablename__ = "experiments"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace: Mapped[str] = mapped_column(String(63))
    # "C" collation: names sort by code point, the same order everywhere (and in Python).
    name: Mapped[str] = mapped_column(String(255, collation="C"))
    experiment_group_id: Mapped[str | None] = mapped_column(String(255))
    agent_name: Mapped[str | None] = mapped_column(String(255))
    agent_version: Mapped[str | None] = mapped_column(String(255))
    dataset_name: Mapped[str] = mapped_column(String(255, collation="C"))
    dataset_version: Mapped[str | None] = mapped_column(String(255))
    source_link: Mapped[str | None] = mapped_column(Text)
    metadata_: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSONB, server_default=text("'{}'::jsonb")
    )
    description: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    pinned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    is_deleted: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # SDK 0.3.0's evaluation fields (migration 0006). Membership: experiment_group_id is its first id.
    experiment_ids: Mapped[list[str]] = mapped_column(
        ARRAY(String(255)), server_default=text("'{}'::varchar[]")
    )
    parent_evaluation_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str | None] = mapped_column(Text)
    root_cause: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        # One live name per workspace, enforced by the database so concurrent creates race safely.
        Index(
            "uq_experiments_live_name",
            "workspace",
            "name",
            unique=True,
            postgresql_where=text("NOT is_deleted"),
        ),
        Index("ix_experiments_workspace_created_at", "workspace", "is_deleted", "created_at"),
        Index("ix_experiments_workspace_updated_at", "workspace", "is_deleted", "updated_at"),
        Index(
            "ix_experiments_workspace_pinned_at",
            "workspace",
            "pinned_at",
            postgresql_where=text("pinned_at IS NOT NULL"),
        ),
        Index("ix_experiments_experiment_ids", "experiment_ids", postgresql_using="gin"),
    )


class ExperimentGroup(Base):
    """A group of experiments (SDK 0.2/0.3 `/experiment-groups`; 0.4's container, `/experiments`
    under /nemo-0.4). Experiments name it by id in their `experiment_ids`."""

    __tablename__ = "experiment_groups"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace: Mapped[str] = mapped_column(String(63))
    name: Mapped[str] = mapped_column(String(255, collation="C"))
    description: Mapped[str | None] = mapped_column(Text)
    insight_id: Mapped[str | None] = mapped_column(String(255))
    summary: Mapped[str | None] = mapped_column(Text)
    metadata_: Mapped[dict[str, str] | None] = mapped_column("metadata", JSONB)
    default_sort: Mapped[str] = mapped_column(String(1024))
    pareto_x_metric: Mapped[str] = mapped_column(String(255))
    pareto_y_metric: Mapped[str] = mapped_column(String(255))
    # SDK 0.4+'s container fields (migration 0007), edited under /nemo-0.4 only.
    is_favorite: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    show_evaluations_over_time: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    baseline_evaluation_name: Mapped[str | None] = mapped_column(String(255, collation="C"))
    column_layout: Mapped[dict[str, list[str]] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    is_deleted: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index(
            "uq_experiment_groups_live_name",
            "workspace",
            "name",
            unique=True,
            postgresql_where=text("NOT is_deleted"),
        ),
        Index("ix_experiment_groups_workspace_created_at", "workspace", "is_deleted", "created_at"),
    )


class ApiKey(Base):
    """An API key: only a hash of the secret is kept; the secret is shown once at creation."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(ARRAY(String(64)))
    workspaces: Mapped[list[str]] = mapped_column(ARRAY(String(63)))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# --- The ML-workbench API (/api/v1, seed 003) ----------------------------------------------------


class WorkbenchExperiment(Base):
    """An ML-workbench experiment. Names are unique per (workspace, owner): /register relies on it."""

    __tablename__ = "workbench_experiments"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace: Mapped[str] = mapped_column(String(63))
    owner: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255, collation="C"))
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    tags: Mapped[list[str]] = mapped_column(ARRAY(String(64)), server_default=text("'{}'"))
    pinned: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    is_public: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    shared_with: Mapped[list[str]] = mapped_column(ARRAY(String(255)), server_default=text("'{}'"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("workspace", "owner", "name"),
        CheckConstraint("status IN ('draft', 'pending', 'running', 'completed', 'failed')", name="status"),
        Index("ix_workbench_experiments_workspace_created_at", "workspace", "created_at"),
    )


class WorkbenchRun(Base):
    """A run of an experiment; its id is unique per (workspace, owner) (callers may choose it), so a
    clash never tells one owner about another's private runs. `owner` is its experiment's."""

    __tablename__ = "workbench_runs"

    workspace: Mapped[str] = mapped_column(String(63), primary_key=True)
    owner: Mapped[str] = mapped_column(String(255), primary_key=True)
    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    experiment_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("workbench_experiments.id", ondelete="CASCADE")
    )
    name: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))
    # Lists of {"key", "value"} in the order they were given.
    parameters: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    final_metrics: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    model_type: Mapped[str | None] = mapped_column(String(255))
    problem_type: Mapped[str | None] = mapped_column(String(255))
    framework: Mapped[str | None] = mapped_column(String(255))
    parent_run_id: Mapped[str | None] = mapped_column(String(255))
    system_info: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    error_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("status IN ('draft', 'pending', 'running', 'completed', 'failed')", name="status"),
        Index("ix_workbench_runs_experiment_id_created_at", "experiment_id", "created_at"),
    )


class WorkbenchArtifact(Base):
    """An artifact record; `stored` marks bytes kept in the artifact store (else only `s3_key` is known)."""

    __tablename__ = "workbench_artifacts"

    workspace: Mapped[str] = mapped_column(String(63), primary_key=True)
    owner: Mapped[str] = mapped_column(String(255), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    path: Mapped[str] = mapped_column(String(1024), primary_key=True)
    experiment_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(16))
    s3_key: Mapped[str] = mapped_column(String(2048))
    stored: Mapped[bool] = mapped_column(Boolean)
    size: Mapped[int | None] = mapped_column(BigInteger)
    content_type: Mapped[str | None] = mapped_column(String(255))
    sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        ForeignKeyConstraint(
            ["workspace", "owner", "run_id"],
            ["workbench_runs.workspace", "workbench_runs.owner", "workbench_runs.id"],
            ondelete="CASCADE",
        ),
    )
