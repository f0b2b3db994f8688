"""ML-workbench run ids unique per owner, not per workspace

A caller-chosen run id that clashed with another owner's private run answered 409, revealing that
the run exists. Runs (and their artifact records) now carry their experiment's owner, and a run id
is unique per (workspace, owner): two owners may choose the same id without learning of each other.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 21:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("workbench_runs", sa.Column("owner", sa.String(255), nullable=True))
    op.execute(
        "UPDATE workbench_runs r SET owner = e.owner FROM workbench_experiments e WHERE e.id = r.experiment_id"
    )
    op.alter_column("workbench_runs", "owner", nullable=False)
    op.add_column("workbench_artifacts", sa.Column("owner", sa.String(255), nullable=True))
    op.execute(
        "UPDATE workbench_artifacts a SET owner = r.owner FROM workbench_runs r "
        "WHERE r.workspace = a.workspace AND r.id = a.run_id"
    )
    op.alter_column("workbench_artifacts", "owner", nullable=False)
    op.drop_constraint("fk_workbench_artifacts_workspace_workbench_runs", "workbench_artifacts", type_="foreignkey")
    op.drop_constraint("pk_workbench_artifacts", "workbench_artifacts", type_="primary")
    op.drop_constraint("pk_workbench_runs", "workbench_runs", type_="primary")
    op.create_primary_key("pk_workbench_runs", "workbench_runs", ["workspace", "owner", "id"])
    op.create_primary_key("pk_workbench_artifacts", "workbench_artifacts", ["workspace", "owner", "run_id", "path"])
    op.create_foreign_key(
        "fk_workbench_artifacts_workspace_workbench_runs", "workbench_artifacts", "workbench_runs",
        ["workspace", "owner", "run_id"], ["workspace", "owner", "id"], ondelete="CASCADE",
    )


def downgrade() -> None:
    # Fails (duplicate key) once two owners share a run id: that data has no place in the old schema.
    op.drop_constraint("fk_workbench_artifacts_workspace_workbench_runs", "workbench_artifacts", type_="foreignkey")
    op.drop_constraint("pk_workbench_artifacts", "workbench_artifacts", type_="primary")
    op.drop_constraint("pk_workbench_runs", "workbench_runs", type_="primary")
    op.create_primary_key("pk_workbench_runs", "workbench_runs", ["workspace", "id"])
    op.create_primary_key("pk_workbench_artifacts", "workbench_artifacts", ["workspace", "run_id", "path"])
    op.create_foreign_key(
        "fk_workbench_artifacts_workspace_workbench_runs", "workbench_artifacts", "workbench_runs",
        ["workspace", "run_id"], ["workspace", "id"], ondelete="CASCADE",
    )
    op.drop_column("workbench_artifacts", "owner")
    op.drop_column("workbench_runs", "owner")
