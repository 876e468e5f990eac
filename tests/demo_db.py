"""The seeded Luzhou demo for tests: `seed_demo` runs once per test session, each test gets a copy.

seed_demo takes ~15 s; PostgreSQL copies a database in well under one (CREATE DATABASE ... TEMPLATE).
So the session's test database, fresh from its migrations and before any test has run, is copied into
a template database, which the first test that asks for the demo seeds; every test that asks gets its
own copy of that template as the default database, dropped after the test. A copy, not a shared read-
only database: some demo tests write (a full reassignment, audit runs and their findings), and a copy
per test means no test can see another's rows, however it commits.

The copy is put in place by renaming the default connection's database (the settings dict that every
thread's connection is built from, so a live server's and a background job's connections follow) and
closing the open connections; the rename is undone and the copy dropped after the test.
"""

from __future__ import annotations

import contextlib
import io

from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection, connections
from django.db.backends.postgresql.psycopg_any import sql


class DemoDatabases:
    """The template of one test session and the copies made from it."""

    def __init__(self, test_database: str):
        self.test_database = test_database
        self.template = f"{test_database}_demo_template"
        self.copies = 0
        self.seeded = False

    def reserve(self) -> None:
        """Copy the freshly migrated test database into the (empty) template; call before any test."""
        self._drop(self.template)
        self._create(self.template, template=self.test_database)

    def copy(self) -> str:
        """A new database holding the seeded demo; seeds the template on first use."""
        if not self.seeded:
            with self.using(self.template):
                call_command("seed_demo", verbosity=0, stdout=io.StringIO())
            self.seeded = True
        self.copies += 1
        name = f"{self.template}_{self.copies}"
        self._drop(name)
        self._create(name, template=self.template)
        return name

    @contextlib.contextmanager
    def using(self, name: str):
        """The default database is `name` inside the block, the one before it again after it."""
        previous = connection.settings_dict["NAME"]
        self._point_at(name)
        try:
            yield
        finally:
            self._point_at(previous)

    def drop(self, name: str) -> None:
        self._drop(name)
        # FORCE ended every session on the copy, this thread's too if anything reopened one there
        # after the switch back: close it here, or the next test starts on a dead connection.
        connections.close_all()

    def drop_all(self) -> None:
        for number in range(1, self.copies + 1):
            self._drop(f"{self.template}_{number}")
        self._drop(self.template)

    @staticmethod
    def _point_at(name: str) -> None:
        connections.close_all()
        connection.settings_dict["NAME"] = name
        # Content types are cached by id per alias; a flushed test database and a copy disagree on ids.
        ContentType.objects.clear_cache()

    @staticmethod
    def _create(name: str, *, template: str) -> None:
        connections.close_all()  # PostgreSQL copies a database only while no one is connected to it
        with connection._nodb_cursor() as cursor:
            cursor.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))
            )

    @staticmethod
    def _drop(name: str) -> None:
        with connection._nodb_cursor() as cursor:
            # FORCE: a server thread or a background job of the test may still hold a connection.
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
