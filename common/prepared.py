"""Server-side prepared statements for hot, fixed queries.

PREPARE once per database connection, then EXECUTE with parameters: PostgreSQL plans a statement like
LOCATE_SQL in about as long as it runs it, and a persistent connection (CONN_MAX_AGE) serves thousands
of requests. Prepared statements belong to the session and survive transaction rollbacks; a new
connection (after a restart, say) is a new object in the weak set and gets its own PREPARE.
"""

from __future__ import annotations

import weakref

from django.db import connection
from psycopg.pq import TransactionStatus

_prepared: dict[str, weakref.WeakSet] = {}


def execute_prepared(name: str, sql: str, params: list, *, generic_plan: bool = False):
    """Run the `$n`-parameterised `sql` as prepared statement `name`; returns the first row.

    `generic_plan`: execute it with the plan made once for any parameters. PostgreSQL keeps planning a
    statement for each call's values as long as its generic plan's estimate looks dearer, which for
    a statement of many small index lookups it may always do. Only for a statement whose plan does
    not depend on its values (EXPLAIN it on city-scale data first); the setting is restored after the
    call, and a failed call's transaction undoes it anyway.
    """
    connection.ensure_connection()
    raw = connection.connection
    done = _prepared.setdefault(name, weakref.WeakSet())
    with connection.cursor() as cursor:
        if raw not in done:
            # `name` is one of the project's constants and `sql` a module constant: no user text here.
            cursor.execute(f"PREPARE {name} AS {sql}")  # noqa: S608
            done.add(raw)
        placeholders = ", ".join(["%s"] * len(params))
        if generic_plan:
            cursor.execute("SET plan_cache_mode = force_generic_plan")
        try:
            cursor.execute(f"EXECUTE {name}({placeholders})", params)  # noqa: S608
            return cursor.fetchone()
        finally:
            # In a failed transaction the SET is undone with it, and nothing more may be sent.
            if generic_plan and raw.info.transaction_status != TransactionStatus.INERROR:
                cursor.execute("RESET plan_cache_mode")
