"""Server-side prepared statements for hot, fixed queries.

PostgreSQL plans a statement like LOCATE_SQL in about as long as it runs it, and a persistent
connection (CONN_MAX_AGE) serves thousands of requests: such a statement is prepared on its first run
on a connection and executed by name after that. psycopg keeps the connection's prepared statements
(they belong to the session and survive rollbacks; a new connection prepares its own), whatever the
connection's prepare_threshold: these are prepared even with GRIDGIS_DB_PREPARE_THRESHOLD=off.
"""

from __future__ import annotations

from django.db import connection
from psycopg import RawCursor
from psycopg.pq import TransactionStatus


class _PreparingCursor(RawCursor):
    """A cursor for `$n`-parameterised SQL that prepares every statement it runs."""

    def execute(self, query, params=None, *, prepare=None, binary=None):
        return super().execute(query, params, prepare=True, binary=binary)


def execute_prepared(sql: str, params: list, *, generic_plan: bool = False):
    """Run the `$n`-parameterised `sql`, a module constant, as a prepared statement; returns the first row.

    `generic_plan`: execute it with the plan made once for any parameters. PostgreSQL keeps planning a
    statement for each call's values as long as its generic plan's estimate looks dearer, which for
    a statement of many small index lookups it may always do. Only for a statement whose plan does
    not depend on its values (EXPLAIN it on city-scale data first); the setting is restored after the
    call, and a failed call's transaction undoes it anyway.
    """
    connection.ensure_connection()
    raw = connection.connection
    # Through Django's cursor wrapper, so that the statement is counted, logged and wrapped like any other.
    with connection.make_cursor(_PreparingCursor(raw)) as cursor:
        if generic_plan:
            cursor.execute("SET plan_cache_mode = force_generic_plan")
        try:
            cursor.execute(sql, params)
            return cursor.fetchone()
        finally:
            # In a failed transaction the SET is undone with it, and nothing more may be sent.
            if generic_plan and raw.info.transaction_status != TransactionStatus.INERROR:
                cursor.execute("RESET plan_cache_mode")
