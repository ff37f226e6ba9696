"""The dashboard's view of the deployment itself: its engine and where its data is."""

from __future__ import annotations

from confect.engine.interface import Engine
from confect.engine.memory import MemoryEngine
from confect.engine.sql.sqlite import SqliteEngine
from confect.runtime.deployment import Deployment
from confect.server.dashboard.messages import DeploymentInfo


def deployment_info(deployment: Deployment) -> DeploymentInfo:
    """The engine, the data's location, the URL files are served at, the app's size."""
    engine, location = _engine(deployment.engine)
    app = deployment.app
    return DeploymentInfo(
        engine=engine,
        location=location,
        url=deployment.files.base_url,
        tables=len([name for name in app.schema.tables if not name.startswith("_")]),
        functions=len(app.functions),
        crons=len(app.crons.jobs),
    )


def _engine(engine: Engine) -> tuple[str, str]:
    if isinstance(engine, SqliteEngine):
        return "SQLite", str(engine.directory.resolve())
    if isinstance(engine, MemoryEngine):
        return "memory", "in this process's memory (gone when it stops)"
    schema = getattr(engine, "schema", None)  # PostgreSQL's, without importing psycopg here
    if isinstance(schema, str):
        return "PostgreSQL", f"schema {schema}"
    return type(engine).__name__, ""
