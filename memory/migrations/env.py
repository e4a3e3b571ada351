"""Alembic environment: runs on the connection the Store hands over (or the configured database, when run by the alembic command)."""

from alembic import context
from chatface.memory.schema import Base
from sqlalchemy import create_engine

config = context.config
target_metadata = Base.metadata


def run() -> None:
    conn = config.attributes.get("connection")
    if conn is not None:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    from chatface.configuration import Configuration  # run by the alembic command: the configured database

    engine = create_engine(Configuration().resolved_database_url())
    with engine.begin() as c:
        context.configure(connection=c, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run()
