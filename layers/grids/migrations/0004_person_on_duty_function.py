"""The rule "who is on duty for a grid", as one SQL function: the leader or officer of a grid is the
holder of a duty of that kind in force on the day, on the deepest grid of the grid's chain (by the
code rule) that has one, lowest duty id first. layers.grids.selectors.responsibility_for_grid applies
the same rule in the ORM (tests hold the two together); case intake, bulk generation and reassignment
call this function inside their set-based statements.

LANGUAGE sql and STABLE, so PostgreSQL inlines it: the chain is at most five lookups through the
unique code index and the (grid, kind) duty index.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION grids_on_duty(grid_code text, duty_kind text, on_day date)
RETURNS TABLE (duty_id bigint, person_id bigint, grid_id bigint, grid_code_on_duty text)
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT d.id, d.person_id, g.id, g.code
    FROM generate_series(6, 18, 3) AS n
    JOIN grids_grid g ON g.code = left(grid_code, n)
    JOIN grids_duty d ON d.grid_id = g.id AND d.kind = duty_kind
    WHERE n <= length(grid_code)
      AND d.starts_on <= on_day AND (d.ends_on IS NULL OR d.ends_on >= on_day)
    ORDER BY n DESC, d.id
    LIMIT 1
$$;
"""

DROP = "DROP FUNCTION IF EXISTS grids_on_duty(text, text, date);"


class Migration(migrations.Migration):
    dependencies = [("grids", "0003_smallest_covering_function")]
    operations = [migrations.RunSQL(CREATE, DROP)]
