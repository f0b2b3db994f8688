"""experiments seen as SDK 0.3.0 evaluations: group membership, parent, status, root cause

A run (the seeds' /experiments) is an evaluation (0.3.0 /evaluations): one row for both. Membership
is `experiment_ids`, of which the seeds' `experiment_group_id` is the first; existing rows start with
their group id as their only membership.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 23:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "experiments",
        sa.Column(
            "experiment_ids",
            postgresql.ARRAY(sa.String(255)),
            server_default=sa.text("'{}'::varchar[]"),
            nullable=False,
        ),
    )
    op.add_column("experiments", sa.Column("parent_evaluation_id", sa.String(64), nullable=True))
    op.add_column("experiments", sa.Column("status", sa.Text(), nullable=True))
    op.add_column("experiments", sa.Column("root_cause", sa.Text(), nullable=True))
    op.execute(
        "UPDATE experiments SET experiment_ids = ARRAY[experiment_group_id] WHERE experiment_group_id IS NOT NULL"
    )
    # Listing a group's evaluations asks "which rows hold this id": a GIN index answers `@>` / `&&`.
    op.create_index(
        "ix_experiments_experiment_ids", "experiments", ["experiment_ids"], postgresql_using="gin"
    )


def downgrade() -> None:
    op.drop_index("ix_experiments_experiment_ids", table_name="experiments")
    op.drop_column("experiments", "root_cause")
    op.drop_column("experiments", "status")
    op.drop_column("experiments", "parent_evaluation_id")
    op.drop_column("experiments", "experiment_ids")
