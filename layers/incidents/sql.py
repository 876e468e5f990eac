"""The incidents layer's spatial and set-based SQL: every statement named, parameterised, kept here.

Points arrive as EWKT in EPSG:4326 (`%(point)s`); distances are metres on the geography type, never
degrees. The KNN operator `<->` on the indexed geometry column only orders candidates; the answer is
always taken from the geography distance.
"""

# Routing: the rules for the category (or its major) whose department's jurisdiction covers the point,
# most specific first: the smallest jurisdiction in m², then a rule on the minor over one on the major.
ROUTING_RULE_AT = """
SELECT r.id AS rule_id, d.id AS department_id, ST_Area(d.jurisdiction::geography) AS area_m2
FROM incidents_routingrule r
JOIN grids_department d ON d.id = r.department_id
WHERE r.category_id = ANY(%(category_ids)s)
  AND d.jurisdiction IS NOT NULL
  AND ST_Covers(d.jurisdiction, ST_GeomFromEWKT(%(point)s))
ORDER BY area_m2, (r.category_id = %(category_id)s) DESC, r.id
LIMIT 1
"""

# Metres from the point to the nearest edge of the grid's boundary (0 on the edge itself).
EDGE_DISTANCE = """
SELECT ST_Distance(ST_Boundary(g.boundary)::geography, ST_GeomFromEWKT(%(point)s)::geography)
FROM grids_grid g WHERE g.id = %(grid_id)s
"""

# The nearest active grid to a point no grid covers (a dead corner): the deepest levels first among
# the 32 nearest by bounding box, then the true distance in metres.
NEAREST_GRID = """
WITH candidates AS (
    SELECT g.id, g.level, g.code, g.boundary
    FROM grids_grid g
    WHERE g.is_active AND g.level >= %(min_level)s
    ORDER BY g.boundary <-> ST_GeomFromEWKT(%(point)s)
    LIMIT 32
)
SELECT id, ST_Distance(boundary::geography, ST_GeomFromEWKT(%(point)s)::geography) AS metres
FROM candidates
ORDER BY metres, level DESC, code
LIMIT 1
"""

# The district whose boundary is nearest to the point (0 m when it covers it).
NEAREST_DISTRICT = """
WITH candidates AS (
    SELECT g.id, g.code, g.boundary
    FROM grids_grid g
    WHERE g.is_active AND g.level = 1
    ORDER BY g.boundary <-> ST_GeomFromEWKT(%(point)s)
    LIMIT 8
)
SELECT id, code, ST_Distance(boundary::geography, ST_GeomFromEWKT(%(point)s)::geography) AS metres
FROM candidates
ORDER BY metres, code
LIMIT 1
"""

# "Me too": the nearest open, non-duplicate case of the same category within R metres reported since
# a time. Uses the GiST index on location::geography (migration 0002).
DUPLICATE_CANDIDATE = """
SELECT c.id
FROM incidents_case c
WHERE c.category_id = %(category_id)s
  AND c.status = ANY(%(open_statuses)s)
  AND c.reported_at >= %(since)s
  AND ST_DWithin(c.location::geography, ST_GeomFromEWKT(%(point)s)::geography, %(metres)s)
ORDER BY ST_Distance(c.location::geography, ST_GeomFromEWKT(%(point)s)::geography), c.id
LIMIT 1
FOR UPDATE
"""

# One rung of the escalation ladder, set-based: every open case that sits on the rung below and is
# at least `hours` past its stage's due time climbs one rung, and each climb is written to the trail.
# Concurrent runs are safe: the second UPDATE re-checks `escalation_level` after the first commits.
ESCALATE_ONE_RUNG = """
WITH climbed AS (
    UPDATE incidents_case c
    SET escalation_level = %(level)s, version = c.version + 1, updated_at = %(now)s
    WHERE c.escalation_level = %(level)s - 1
      AND c.status = ANY(%(open_statuses)s)
      AND c.due_at <= %(now)s - %(hours)s * interval '1 hour'
    RETURNING c.id, c.status, c.due_at
)
INSERT INTO incidents_trailentry
    (case_id, at, actor_id, actor_name, action, from_status, to_status, note, escalation_level, data)
SELECT id, %(now)s, NULL, 'system', 'escalate', status, status, %(note)s, %(level)s,
       jsonb_build_object('due_at', due_at, 'threshold_hours', %(hours)s)
FROM climbed
"""
