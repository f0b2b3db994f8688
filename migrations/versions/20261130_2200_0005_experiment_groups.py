"""experiment_groups table: the groups of SDK 0.2.0 and 0.3.0 (`/experiment-groups`)

A group holds the 0.3.0 fields (insight_id, summary, string metadata, default_sort, pareto axes).
One live name per workspace; a deleted group is renamed, so its old name is free again.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 22:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "experiment_groups",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("workspace", sa.String(63), nullable=False),
        sa.Column("name", sa.String(255, collation="C"), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("insight_id", sa.String(255), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("metadata", postgresql.JSONB(), nullable=True),
        sa.Column("default_sort", sa.String(1024), nullable=False),
        sa.Column("pareto_x_metric", sa.String(255), nullable=False),
        sa.Column("pareto_y_metric", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("is_deleted", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_experiment_groups"),
    )
    op.create_index(
        "uq_experiment_groups_live_name",
        "experiment_groups",
        ["workspace", "name"],
        unique=True,
        postgresql_where=sa.text("NOT is_deleted"),
    )
    op.create_index(
        "ix_experiment_groups_workspace_created_at",
        "experiment_groups",
        ["workspace", "is_deleted", "created_at"],
    )


def downgrade() -> None:
    op.drop_table("experiment_groups")
