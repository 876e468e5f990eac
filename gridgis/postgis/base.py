"""GeoDjango's PostGIS backend, made safe for server-side binding (settings: OPTIONS["server_side_binding"]).

With server-side binding a parameter travels apart from the SQL, tagged with a type, and two of the
types it gets differ from what the same value meant when Django wrote it into the SQL text:

- A geometry is tagged with the OID of PostGIS's `geometry` type, which GeoDjango caches per
  connection alias for the life of the process. The OID is the database's, not the alias's: a test
  database made after another, a restored backup or a new cluster behind the same alias gives PostGIS's
  types new OIDs, and the next geometry sent fails with "cache lookup failed for type". So each new
  connection looks the types up again (three small catalogue queries per connection, which lives for
  CONN_MAX_AGE).
- psycopg tags a small Python int as smallint, where the literal `5` is an integer: a function that
  PostgreSQL has for integer, bigint and numeric (generate_series, say) then finds no best match
  for two smallints. So an int travels as the literal would: integer when it fits, then bigint, then
  numeric. Every statement the project has was written, and is tested, against those types.
"""

from django.contrib.gis.db.backends.postgis.base import DatabaseWrapper as PostGISDatabaseWrapper
from psycopg.types.numeric import IntDumper


class LiteralIntDumper(IntDumper):
    """A Python int, typed as PostgreSQL types the same integer written as a literal."""

    def upgrade(self, obj, format):
        dumper = super().upgrade(obj, format)
        return self._int4_dumper if dumper is self._int2_dumper else dumper


class DatabaseWrapper(PostGISDatabaseWrapper):
    def get_new_connection(self, conn_params):
        pg_connection = super().get_new_connection(conn_params)
        pg_connection.adapters.register_dumper(int, LiteralIntDumper)
        return pg_connection

    def register_geometry_adapters(self, pg_connection, clear_caches=False):
        super().register_geometry_adapters(pg_connection, clear_caches=True)
