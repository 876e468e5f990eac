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

# Metres from the point to the nearest edge of the grid's boundary (0 on the edge itself). The edges
# are stored as straight lines in lon/lat; read as geography they would be great-circle arcs that
# bow away from the stored line (4 cm on a 2 km edge at 29°N, as much as the 5 m margin on long
# edges), so they are segmentized to 1e-4° first, as common.dbfuncs.AreaM2 does for areas.
EDGE_DISTANCE = """
SELECT ST_Distance(ST_Segmentize(ST_Boundary(g.boundary), 0.0001)::geography,
                   ST_GeomFromEWKT(%(point)s)::geography)
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

# --- Reassignment after grids are redrawn (layers/incidents/reassign.py) -----------------------------

# Grids drawn differently from their stamp (version, boundary digest, active flag), new grids, and
# stamped grids that no longer exist.
CHANGED_GRIDS = """
SELECT g.id
FROM grids_grid g
LEFT JOIN incidents_gridstamp s ON s.grid_id = g.id
WHERE s.grid_id IS NULL
   OR s.version <> g.version
   OR s.is_active <> g.is_active
   OR s.digest <> md5(ST_AsEWKB(g.boundary))
UNION
SELECT s.grid_id
FROM incidents_gridstamp s
LEFT JOIN grids_grid g ON g.id = s.grid_id
WHERE g.id IS NULL
"""

# Stamp every grid as it is drawn now (after a successful reassignment).
RESTAMP_GRIDS = """
WITH gone AS (
    DELETE FROM incidents_gridstamp s WHERE NOT EXISTS (SELECT 1 FROM grids_grid g WHERE g.id = s.grid_id)
)
INSERT INTO incidents_gridstamp (grid_id, version, digest, is_active)
SELECT g.id, g.version, md5(ST_AsEWKB(g.boundary)), g.is_active FROM grids_grid g
ON CONFLICT (grid_id) DO UPDATE
SET version = EXCLUDED.version, digest = EXCLUDED.digest, is_active = EXCLUDED.is_active
"""


# Both reassignment statements end alike: given `best` (each examined case with its old grid and the
# grid the one rule gives it now), they write the cases whose grid or grid drawing changed, a trail
# entry for each case that moved to another grid, and return (examined, updated, moved).

# Full reassignment of one district's cases, driven by the grids: for each active grid of the
# district, an index scan of the cases it covers (the GiST index on incidents_case.location), the
# deepest grid (then the lowest code) kept per case as in GridQuerySet.smallest_covering. A case no
# grid of its own district covers is looked up among all grids (it may have crossed into another
# district, or be a dead corner).
REASSIGN_DISTRICT = """
WITH hits AS MATERIALIZED (
    SELECT DISTINCT ON (c.id) c.id AS case_id, g.id AS grid_id, g.version AS grid_version
    FROM grids_grid g
    CROSS JOIN LATERAL (
        SELECT c.id FROM incidents_case c
        WHERE c.district_code = %(district)s AND ST_Covers(g.boundary, c.location)
    ) c
    WHERE g.is_active AND g.district_code = %(district)s
    ORDER BY c.id, g.level DESC, g.code
),
best AS MATERIALIZED (
    SELECT c.id, c.status, c.grid_id AS old_grid_id,
           COALESCE(h.grid_id, f.id) AS grid_id,
           COALESCE(h.grid_version, f.version) AS grid_version,
           CASE WHEN h.grid_id IS NULL THEN f.district_code END AS new_district
    FROM incidents_case c
    LEFT JOIN hits h ON h.case_id = c.id
    LEFT JOIN LATERAL (
        SELECT g.id, g.version, g.district_code FROM grids_grid g
        WHERE h.case_id IS NULL AND g.is_active AND ST_Covers(g.boundary, c.location)
        ORDER BY g.level DESC, g.code
        LIMIT 1
    ) f ON true
    WHERE c.district_code = %(district)s
),
moved AS (
    UPDATE incidents_case c
    SET grid_id = b.grid_id,
        grid_version = b.grid_version,
        dead_corner = b.grid_id IS NULL,
        district_code = COALESCE(b.new_district, c.district_code),
        version = c.version + CASE WHEN b.old_grid_id IS DISTINCT FROM b.grid_id THEN 1 ELSE 0 END,
        updated_at = %(now)s
    FROM best b
    WHERE c.id = b.id
      AND (c.grid_id IS DISTINCT FROM b.grid_id OR c.grid_version IS DISTINCT FROM b.grid_version)
    RETURNING c.id
),
trail AS (
    INSERT INTO incidents_trailentry
        (case_id, at, actor_id, actor_name, action, from_status, to_status, note, escalation_level, data)
    SELECT b.id, %(now)s, NULL, 'system', 'reassign', b.status, b.status, %(note)s, NULL,
           jsonb_build_object('from_grid', og.code, 'to_grid', ng.code, 'grid_version', b.grid_version)
    FROM moved m
    JOIN best b ON b.id = m.id
    LEFT JOIN grids_grid og ON og.id = b.old_grid_id
    LEFT JOIN grids_grid ng ON ng.id = b.grid_id
    WHERE b.old_grid_id IS DISTINCT FROM b.grid_id
    RETURNING 1
)
SELECT (SELECT count(*) FROM best), (SELECT count(*) FROM moved), (SELECT count(*) FROM trail)
"""

# Reassignment of only the cases a redraw can affect: those assigned to a changed grid, and those
# inside a changed grid's new boundary; each is looked up again by the one rule.
REASSIGN_AFFECTED = """
WITH changed AS (
    SELECT g.id, g.boundary, g.is_active FROM grids_grid g WHERE g.id = ANY(%(grid_ids)s)
),
candidates AS (
    SELECT c.id FROM incidents_case c WHERE c.grid_id = ANY(%(grid_ids)s)
    UNION
    SELECT c.id FROM changed g JOIN incidents_case c ON ST_Covers(g.boundary, c.location) WHERE g.is_active
),
best AS MATERIALIZED (
    SELECT c.id, c.status, c.grid_id AS old_grid_id, f.id AS grid_id, f.version AS grid_version,
           f.district_code AS new_district
    FROM candidates k
    JOIN incidents_case c ON c.id = k.id
    LEFT JOIN LATERAL (
        SELECT g.id, g.version, g.district_code FROM grids_grid g
        WHERE g.is_active AND ST_Covers(g.boundary, c.location)
        ORDER BY g.level DESC, g.code
        LIMIT 1
    ) f ON true
),
moved AS (
    UPDATE incidents_case c
    SET grid_id = b.grid_id,
        grid_version = b.grid_version,
        dead_corner = b.grid_id IS NULL,
        district_code = COALESCE(b.new_district, c.district_code),
        version = c.version + CASE WHEN b.old_grid_id IS DISTINCT FROM b.grid_id THEN 1 ELSE 0 END,
        updated_at = %(now)s
    FROM best b
    WHERE c.id = b.id
      AND (c.grid_id IS DISTINCT FROM b.grid_id OR c.grid_version IS DISTINCT FROM b.grid_version)
    RETURNING c.id
),
trail AS (
    INSERT INTO incidents_trailentry
        (case_id, at, actor_id, actor_name, action, from_status, to_status, note, escalation_level, data)
    SELECT b.id, %(now)s, NULL, 'system', 'reassign', b.status, b.status, %(note)s, NULL,
           jsonb_build_object('from_grid', og.code, 'to_grid', ng.code, 'grid_version', b.grid_version)
    FROM moved m
    JOIN best b ON b.id = m.id
    LEFT JOIN grids_grid og ON og.id = b.old_grid_id
    LEFT JOIN grids_grid ng ON ng.id = b.grid_id
    WHERE b.old_grid_id IS DISTINCT FROM b.grid_id
    RETURNING 1
)
SELECT (SELECT count(*) FROM best), (SELECT count(*) FROM moved), (SELECT count(*) FROM trail)
"""

# The districts that hold cases, for a full run (blank: cases outside every district).
CASE_DISTRICTS = "SELECT DISTINCT district_code FROM incidents_case ORDER BY district_code"
