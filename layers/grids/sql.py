"""The grid layer's hand-written SQL, one named statement each (parameters only, never pasted text)."""

# Locate in one round trip: the grid grids_smallest_covering picks, its chain (by the code rule), and
# the duties in force on $3::date, as one JSON document shaped like LocateResultSerializer.
# Leaders and officers come from the deepest grid of the chain that has any; departments (partner
# departments and task groups) from every grid of the chain.
# Kept as a server-side prepared statement per connection (see common.prepared): planning it costs as
# much as running it. $1 lon, $2 lat (EPSG:4326), $3 the day whose duties count.
LOCATE_SQL = """
WITH target AS (
    SELECT id, code FROM grids_smallest_covering(ST_SetSRID(ST_MakePoint($1::float8, $2::float8), 4326))
),
chain AS (
    SELECT g.id, g.code, g.name, g.level
    FROM target t
    -- constant bounds let the planner see at most 5 rows and pick index lookups for the duties
    CROSS JOIN generate_series(6, 18, 3) AS n
    JOIN grids_grid g ON g.code = left(t.code, n)
    WHERE n <= length(t.code)
),
duties AS (
    SELECT d.id, d.kind, c.code AS grid_code, c.level AS grid_level,
           p.id AS person_id, p.name AS person_name, p.phone, p.title,
           dep.code AS department_code, dep.name AS department_name
    FROM grids_duty d
    JOIN chain c ON c.id = d.grid_id
    LEFT JOIN grids_person p ON p.id = d.person_id
    LEFT JOIN grids_department dep ON dep.id = d.department_id
    WHERE d.starts_on <= $3::date AND (d.ends_on IS NULL OR d.ends_on >= $3::date)
),
nearest AS (
    SELECT kind, max(grid_level) AS grid_level FROM duties WHERE kind IN ('leader', 'officer') GROUP BY kind
)
SELECT json_build_object(
    'outside', NOT EXISTS (SELECT 1 FROM target),
    'chain', coalesce((SELECT json_agg(json_build_object(
                 'code', code, 'name', name,
                 'level', (ARRAY['city', 'district', 'street', 'community', 'grid', 'microgrid'])[level + 1])
             ORDER BY level) FROM chain), '[]'::json),
    'leaders', coalesce((SELECT json_agg(json_build_object(
                 'person_id', person_id, 'name', person_name, 'phone', phone, 'title', title,
                 'grid_code', grid_code) ORDER BY d.id)
             FROM duties d JOIN nearest n USING (kind, grid_level) WHERE kind = 'leader'), '[]'::json),
    'officers', coalesce((SELECT json_agg(json_build_object(
                 'person_id', person_id, 'name', person_name, 'phone', phone, 'title', title,
                 'grid_code', grid_code) ORDER BY d.id)
             FROM duties d JOIN nearest n USING (kind, grid_level) WHERE kind = 'officer'), '[]'::json),
    'departments', coalesce((SELECT json_agg(json_build_object(
                 'code', department_code, 'name', department_name, 'kind', kind, 'grid_code', grid_code)
             ORDER BY grid_level DESC, kind, id)
             FROM duties WHERE department_code IS NOT NULL), '[]'::json)
)
"""

# The id of the grid that answers for a point (see migration 0003 for the rule).
SMALLEST_COVERING_ID_SQL = "SELECT id FROM grids_smallest_covering(ST_GeomFromEWKB(%s))"
