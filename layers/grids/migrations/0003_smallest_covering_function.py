"""The rule "which grid answers for a point", as one SQL function that every caller uses.

The deepest active grid whose boundary covers the point (ST_Covers, so a point on an edge counts);
a point on an edge shared by siblings goes to the lowest code. Written in LANGUAGE sql and STABLE so
that PostgreSQL inlines it: `LATERAL grids_smallest_covering(c.location)` in a set-based statement
becomes an index scan per row, and the ORM (GridQuerySet.smallest_covering), the locate statement and
bulk reassignment all share this one definition.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION grids_smallest_covering(point geometry)
RETURNS SETOF grids_grid
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT * FROM grids_grid
    WHERE is_active AND ST_Covers(boundary, point)
    ORDER BY level DESC, code
    LIMIT 1
$$;
"""

DROP = "DROP FUNCTION IF EXISTS grids_smallest_covering(geometry);"


class Migration(migrations.Migration):
    dependencies = [("grids", "0002_grid_tree_trigger")]
    operations = [migrations.RunSQL(CREATE, DROP)]
