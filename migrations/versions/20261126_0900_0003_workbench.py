"""ML-workbench experiments, runs and artifact records (the /api/v1 API of seed 003)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 09:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

STATUS_CHECK = "status IN ('draft', 'pending', 'running', 'completed', 'failed')"


def upgrade() -> None:
    op.create_table(
        "workbench_experiments",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("workspace", sa.String(63), nullable=False),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("name", sa.String(255, collation="C"), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("tags", postgresql.ARRAY(sa.String(64)), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("pinned", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("is_public", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("shared_with", postgresql.ARRAY(sa.String(255)), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_workbench_experiments"),
        # One name per (workspace, owner): concurrent /register calls race safely on it.
        sa.UniqueConstraint("workspace", "owner", "name", name="uq_workbench_experiments_workspace_owner_name"),
        sa.CheckConstraint(STATUS_CHECK, name="ck_workbench_experiments_status"),
    )
    op.create_index(
        "ix_workbench_experiments_workspace_created_at", "workbench_experiments", ["workspace", "created_at"]
    )
    op.create_table(
        "workbench_runs",
        sa.Column("workspace", sa.String(63), nullable=False),
        sa.Column("id", sa.String(255), nullable=False),
        sa.Column("experiment_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("parameters", postgresql.JSONB(), server_default=sa.text("'[]'::jsonb"), nullable=False),
        sa.Column("final_metrics", postgresql.JSONB(), server_default=sa.text("'[]'::jsonb"), nullable=False),
        sa.Column("model_type", sa.String(255), nullable=True),
        sa.Column("problem_type", sa.String(255), nullable=True),
        sa.Column("framework", sa.String(255), nullable=True),
        sa.Column("parent_run_id", sa.String(255), nullable=True),
        sa.Column("system_info", postgresql.JSONB(), nullable=True),
        sa.Column("duration_seconds", sa.Float(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("workspace", "id", name="pk_workbench_runs"),
        sa.ForeignKeyConstraint(
            ["experiment_id"], ["workbench_experiments.id"],
            name="fk_workbench_runs_experiment_id_workbench_experiments", ondelete="CASCADE",
        ),
        sa.CheckConstraint(STATUS_CHECK, name="ck_workbench_runs_status"),
    )
    op.create_index(
        "ix_workbench_runs_experiment_id_created_at", "workbench_runs", ["experiment_id", "created_at"]
    )
    op.create_table(
        "workbench_artifacts",
        sa.Column("workspace", sa.String(63), nullable=False),
        sa.Column("run_id", sa.String(255), nullable=False),
        sa.Column("path", sa.String(1024), nullable=False),
        sa.Column("experiment_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("s3_key", sa.String(2048), nullable=False),
        sa.Column("stored", sa.Boolean(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("content_type", sa.String(255), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("workspace", "run_id", "path", name="pk_workbench_artifacts"),
        sa.ForeignKeyConstraint(
            ["workspace", "run_id"], ["workbench_runs.workspace", "workbench_runs.id"],
            name="fk_workbench_artifacts_workspace_workbench_runs", ondelete="CASCADE",
        ),
    )


def downgrade() -> None:
    op.drop_table("workbench_artifacts")
    op.drop_index("ix_workbench_runs_experiment_id_created_at", table_name="workbench_runs")
    op.drop_table("workbench_runs")
    op.drop_index("ix_workbench_experiments_workspace_created_at", table_name="workbench_experiments")
    op.drop_table("workbench_experiments")
