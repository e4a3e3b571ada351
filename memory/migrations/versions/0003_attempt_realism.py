"""The realism scores of every attempt (seam, texture, gamut, visible; issue 11).

Revision ID: 0003
Revises: 0002

A nullable JSON column: attempts stored before it have no realism scores.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("attempts", sa.Column("realism", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("attempts") as batch:
        batch.drop_column("realism")
