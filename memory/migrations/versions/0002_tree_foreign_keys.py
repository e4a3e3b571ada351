"""Foreign keys for a session's head and redo nodes.

Revision ID: 0002
Revises: 0001

On SQLite the sessions table is rebuilt (Alembic's batch mode); the store runs
migrations with foreign-key enforcement off, so that rebuilding the table never
cascades into its messages, nodes and attempts, and checks every key after.
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.create_foreign_key("fk_sessions_head_node", "edit_nodes", ["head_node_id"], ["id"])
        batch.create_foreign_key("fk_sessions_redo_node", "edit_nodes", ["redo_node_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.drop_constraint("fk_sessions_redo_node", type_="foreignkey")
        batch.drop_constraint("fk_sessions_head_node", type_="foreignkey")
