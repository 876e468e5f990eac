"""Server-side prepared statements for hot, fixed queries.

PREPARE once per database connection, then EXECUTE with parameters: PostgreSQL plans a statement like
LOCATE_SQL in about as long as it runs it, and a persistent connection (CONN_MAX_AGE) serves thousands
of requests. Prepared statements belong to the session and survive transaction rollbacks; a new
connection (after a restart, say) is a new object in the weak set and gets its own PREPARE.
"""

from __future__ import annotations

import weakref

from django.db import connection

_prepared: dict[str, weakref.WeakSet] = {}


def execute_prepared(name: str, sql: str, params: list):
    """Run the `$n`-parameterised `sql` as prepared statement `name`; returns the first row."""
    connection.ensure_connection()
    raw = connection.connection
    done = _prepared.setdefault(name, weakref.WeakSet())
    with connection.cursor() as cursor:
        if raw not in done:
            # `name` is one of the project's constants and `sql` a module constant: no user text here.
            cursor.execute(f"PREPARE {name} AS {sql}")  # noqa: S608
            done.add(raw)
        placeholders = ", ".join(["%s"] * len(params))
        cursor.execute(f"EXECUTE {name}({placeholders})", params)  # noqa: S608
        return cursor.fetchone()
