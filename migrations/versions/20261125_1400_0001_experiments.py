"""experiments table with one live name per workspace

Revision ID: 0001
Revises:
Create Date: 2026-11-25 14:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "experiments",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("workspace", sa.String(63), nullable=False),
        sa.Column("name", sa.String(255, collation="C"), nullable=False),
        sa.Column("experiment_group_id", sa.String(255), nullable=True),
        sa.Column("agent_name", sa.String(255), nullable=True),
        sa.Column("agent_version", sa.String(255), nullable=True),
        sa.Column("dataset_name", sa.String(255, collation="C"), nullable=False),
        sa.Column("dataset_version", sa.String(255), nullable=True),
        sa.Column("source_link", sa.Text(), nullable=True),
        sa.Column("metadata", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pinned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("is_deleted", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_experiments"),
    )
    op.create_index(
        "uq_experiments_live_name",
        "experiments",
        ["workspace", "name"],
        unique=True,
        postgresql_where=sa.text("NOT is_deleted"),
    )
    op.create_index("ix_experiments_workspace_created_at", "experiments", ["workspace", "is_deleted", "created_at"])
    op.create_index("ix_experiments_workspace_updated_at", "experiments", ["workspace", "is_deleted", "updated_at"])
    op.create_index(
        "ix_experiments_workspace_pinned_at",
        "experiments",
        ["workspace", "pinned_at"],
        postgresql_where=sa.text("pinned_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_table("experiments")
