"""Alembic environment: runs on the connection the Store hands over (or the URL in the environment)."""

from alembic import context
from sqlalchemy import create_engine

from chatface.memory.schema import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    conn = config.attributes.get("connection")
    if conn is not None:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    from chatface.memory.store import default_database_url

    engine = create_engine(default_database_url())
    with engine.begin() as c:
        context.configure(connection=c, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run()
