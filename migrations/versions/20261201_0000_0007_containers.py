"""experiment_groups as SDK 0.4+ containers: favorite, evaluations over time, baseline, column layout

The same row is a group at the root (`/experiment-groups`) and a container under /nemo-0.4
(`/experiments`); these are the fields only the container shows and edits. Existing groups start
as neither favorite nor shown over time, with no baseline and no saved layout.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 00:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "experiment_groups", sa.Column("is_favorite", sa.Boolean(), server_default=sa.text("false"), nullable=False)
    )
    op.add_column(
        "experiment_groups",
        sa.Column("show_evaluations_over_time", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.add_column(
        "experiment_groups", sa.Column("baseline_evaluation_name", sa.String(255, collation="C"), nullable=True)
    )
    op.add_column("experiment_groups", sa.Column("column_layout", postgresql.JSONB(), nullable=True))


def downgrade() -> None:
    op.drop_column("experiment_groups", "column_layout")
    op.drop_column("experiment_groups", "baseline_evaluation_name")
    op.drop_column("experiment_groups", "show_evaluations_over_time")
    op.drop_column("experiment_groups", "is_favorite")
