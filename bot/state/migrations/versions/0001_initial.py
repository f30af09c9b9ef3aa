"""Shared state: event claims, the durable job queue, answers and votes, rate-limit windows.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "claims",
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("expires_at", sa.Float, nullable=False),
    )
    op.create_index("claims_expires", "claims", ["expires_at"])
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("worker", sa.String(128)),
        sa.Column("lease_until", sa.Float, nullable=False, server_default="0"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created", sa.Float, nullable=False),
        sa.Column("updated", sa.Float, nullable=False),
        sa.Column("reply_ts", sa.String(64)),
        sa.Column("error", sa.String(255)),
    )
    op.create_index("jobs_status_lease", "jobs", ["status", "lease_until"])
    op.create_index("jobs_created", "jobs", ["created"])
    op.create_table(
        "answers",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("job_id", sa.String(32)),
        sa.Column("user", sa.String(64)),
        sa.Column("channel", sa.String(64)),
        sa.Column("channel_type", sa.String(32)),
        sa.Column("message_ts", sa.String(64)),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("sources", sa.Text, nullable=False, server_default="[]"),
        sa.Column("mode", sa.String(32)),
        sa.Column("refused", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created", sa.Float, nullable=False),
    )
    op.create_index("answers_job", "answers", ["job_id"])
    op.create_index("answers_created", "answers", ["created"])
    op.create_table(
        "votes",
        sa.Column("answer_id", sa.String(64), primary_key=True),
        sa.Column("user", sa.String(64), primary_key=True),
        sa.Column("vote", sa.String(8), nullable=False),
        sa.Column("created", sa.Float, nullable=False),
    )
    op.create_index("votes_created", "votes", ["created"])
    op.create_table(
        "rate_windows",
        sa.Column("user", sa.String(64), primary_key=True),
        sa.Column("window", sa.BigInteger, primary_key=True),
        sa.Column("hits", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    for table in ("rate_windows", "votes", "answers", "jobs", "claims"):
        op.drop_table(table)
