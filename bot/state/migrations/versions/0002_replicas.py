"""Replica liveness: one row per job runner, kept fresh by its heartbeat, so a dead runner's jobs move at once.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "replicas",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("host", sa.String(255)),
        sa.Column("pid", sa.Integer),
        sa.Column("started", sa.Float, nullable=False),
        sa.Column("last_seen", sa.Float, nullable=False),
        sa.Column("alive_until", sa.Float, nullable=False),  # last_seen + the runner's own dead-after span
        sa.Column("stopped", sa.Float),  # set by a clean stop (SIGTERM, after its drain)
    )
    op.create_index("jobs_worker", "jobs", ["worker"])


def downgrade() -> None:
    op.drop_index("jobs_worker", "jobs")
    op.drop_table("replicas")
