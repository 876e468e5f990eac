"""The connections bind parameters on the server (gridgis/settings.py), and what that changes for SQL.

Two classes of statement break under server-side binding that worked with Django's default: a
statement of several commands that takes parameters (PostgreSQL prepares one command per message),
and a function overloaded on integer types called with small ints (psycopg types them smallint).
The first is enumerated here over every SQL constant the project has; the second is fixed for all
statements at once by gridgis.postgis's int dumper, tested here on the kind of call it broke.
"""

import importlib
import re
from pathlib import Path

import pytest
import sqlparse
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
PROJECT_PACKAGES = (
    "gridgis",
    "fixtures",
    "maps",
    "layers",
    "common",
    "frontend",
    "field",
    "citizen",
    "office",
    "bench",
)
PARAMETER = re.compile(r"%s|%\([a-z_]+\)s|\$[0-9]")


def _sql_constants():
    """(module:NAME, text) for every module-level string constant that holds SQL."""
    for package in PROJECT_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            source = path.read_text()
            if not re.search(r"^[A-Z][A-Z0-9_]* = ", source, re.MULTILINE):
                continue
            module_name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            module = importlib.import_module(module_name)
            for name, value in vars(module).items():
                if (
                    name.isupper()
                    and isinstance(value, str)
                    and re.search(r"\b(SELECT|INSERT|UPDATE|DELETE|CREATE)\b", value)
                ):
                    yield f"{module_name}:{name}", value


def _commands(text):
    return [part for part in sqlparse.split(text) if sqlparse.format(part, strip_comments=True).strip(" ;\n")]


def test_every_connection_binds_on_the_server():
    for alias, database in settings.DATABASES.items():
        assert database["OPTIONS"]["server_side_binding"] is True, alias
        assert database["ENGINE"] == "gridgis.postgis", alias


def test_no_sql_constant_has_several_commands_and_parameters():
    constants = dict(_sql_constants())
    assert len(constants) > 50, "the scan found too few SQL constants to mean anything"
    offenders = [name for name, text in constants.items() if len(_commands(text)) > 1 and PARAMETER.search(text)]
    assert offenders == []


def test_the_scan_would_see_a_statement_of_several_commands_with_parameters():
    text = "CREATE TEMP TABLE t (id int); INSERT INTO t VALUES (%(id)s)"
    assert len(_commands(text)) == 2 and PARAMETER.search(text)
    assert len(_commands("SELECT 1; -- the end\n")) == 1


@pytest.mark.django_db
def test_small_ints_are_typed_as_integer_literals_would_be():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_typeof(%s)::text, pg_typeof(%s)::text, pg_typeof(%s)::text", [5, 2**40, 2**70])
        assert cursor.fetchone() == ("integer", "bigint", "numeric")
        # The call that broke: generate_series has integer, bigint and numeric forms, none for smallint.
        cursor.execute("SELECT count(*) FROM generate_series(%s, %s)", [1, 3])
        assert cursor.fetchone() == (3,)


@pytest.mark.django_db
def test_a_query_run_as_often_as_the_threshold_is_prepared_on_its_connection():
    """The saving itself: once a query has run five times on a connection, it is prepared there and
    executed by name, instead of parsed and planned anew each time."""
    from layers.grids.models import Grid

    def prepared_runs():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT coalesce(sum(generic_plans + custom_plans), 0) FROM pg_prepared_statements"
                " WHERE statement LIKE %s",
                ['%FROM "grids_grid" WHERE "grids_grid"."code" = $1%'],
            )
            return cursor.fetchone()[0]

    assert settings.DATABASES["default"]["OPTIONS"]["prepare_threshold"] == 5
    before = prepared_runs()
    for code in ["510502", "510503", "510504", "510521", "510522", "510524", "510525"]:
        list(Grid.objects.filter(code=code))
    # Runs one to five go unprepared; psycopg prepares the sixth, and the seventh runs by name.
    assert prepared_runs() - before == 2
