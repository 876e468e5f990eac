"""The incidents layer's spatial and set-based SQL: every statement named, parameterised, kept here.

Points arrive as EWKT in EPSG:4326 (`%(point)s`); distances are metres on the geography type, never
degrees. The KNN operator `<->` on the indexed geometry column only orders candidates; the answer is
always taken from the geography distance.
"""

# Intake in one round trip: everything a new report at a point covered by a grid needs, as one JSON
# document (see selectors.intake_facts). Kept as a server-side prepared statement per connection
# (common.prepared), like the locate statement: planning it costs as much as running it. It runs on
# its generic plan (generic_plan=True): on the city-scale bench PostgreSQL kept making a custom plan
# for every report (0 generic against 140 custom), 1.1 ms of planning for 1.2 ms of execution, and
# the generic plan is the same index lookups for any point (in-process: the statement 4.8 → 2.9 ms).
# - grid: grids_smallest_covering, the one rule; the district from its chain (the code rule).
# - edge_m: metres from the point to the nearest edge of the grid (0 on the edge). The edges are
#   stored as straight lines in lon/lat; read as geography they would be great-circle arcs that bow
#   away from the stored line (4 cm on a 2 km edge at 29°N, as much as the 5 m margin on long edges),
#   so they are segmentized to 1e-4° first, as common.dbfuncs.AreaM2 does for areas.
# - leader, officer: grids_on_duty (migration grids 0004), the one rule for who is on duty.
# - rule: among the rules for the category or its major whose department's jurisdiction covers the
#   point, the most specific: the smallest jurisdiction in m², then a rule on the minor over one on
#   the major. Areas are planar in the metric CRS $6 (CGCS2000 Gauss-Krüger, scale error ~2e-5 here):
#   the geodesic area of a real district outline (1,200+ vertices) costs ~25 ms, too much per report.
# - office: the district's dispatch office, the router of last resort.
# - duplicate ("me too"): the nearest open case of the same category within $9 metres reported since
#   $8 (the box below keeps it on the location index); locked FOR UPDATE so that
#   concurrent "me too" counts add up.
# A point no grid covers gets grid null (and its duplicate); the dead-corner path then asks for the
# nearest district and grid (NEAREST_DISTRICT, NEAREST_GRID): rare, so not folded in here.
# $1 lon, $2 lat (EPSG:4326), $3 the day whose duties count, $4 category id, $5 the category and its
# major, $6 metric SRID, $7 open statuses, $8 since, $9 metres.
INTAKE_FACTS = """
WITH pt AS MATERIALIZED (
    SELECT ST_SetSRID(ST_MakePoint($1::float8, $2::float8), 4326) AS geom
),
target AS MATERIALIZED (
    SELECT f.id, f.code, f.name, f.level, f.version, f.district_code, f.boundary
    FROM pt CROSS JOIN LATERAL grids_smallest_covering(pt.geom) f
),
chain AS MATERIALIZED (
    SELECT g.id, g.code, g.name, g.level
    FROM target t
    CROSS JOIN generate_series(6, 18, 3) AS n
    JOIN grids_grid g ON g.code = left(t.code, n)
    WHERE n <= length(t.code)
),
people AS (
    SELECT k.kind, o.duty_id, o.grid_code_on_duty AS grid_code, o.grid_id, p.id AS person_id, p.name AS person_name
    FROM target t
    CROSS JOIN (VALUES ('leader'), ('officer')) AS k(kind)
    CROSS JOIN LATERAL grids_on_duty(t.code, k.kind, $3::date) o
    LEFT JOIN grids_person p ON p.id = o.person_id
),
rule AS (
    SELECT r.id AS rule_id, d.id, d.code, d.name,
           ST_Area(ST_Transform(d.jurisdiction, $6::int)) AS area_m2
    FROM incidents_routingrule r
    JOIN grids_department d ON d.id = r.department_id
    CROSS JOIN pt
    WHERE r.category_id = ANY($5::int[])
      AND d.jurisdiction IS NOT NULL
      AND ST_Covers(d.jurisdiction, pt.geom)
    ORDER BY area_m2, (r.category_id = $4::int) DESC, r.id
    LIMIT 1
),
office AS (
    SELECT d.id, d.code, d.name
    FROM grids_department d
    JOIN chain c ON c.id = d.district_id AND c.level = 1
    WHERE d.kind = 'dispatch_office'
    ORDER BY d.code
    LIMIT 1
),
duplicate AS (
    SELECT c.id, c.status
    FROM incidents_case c CROSS JOIN pt
    WHERE c.category_id = $4::int
      AND c.status = ANY($7::text[])
      AND c.reported_at >= $8::timestamptz
      -- The geometry GiST index finds the candidates in a box that holds the circle: a degree of
      -- latitude is at least 110,574 m, a degree of longitude at least 111,320·cos(lat) m (the
      -- sphere's, shorter than the ellipsoid's), taken 0.01° poleward; then the exact test in metres.
      AND c.location && ST_Expand(pt.geom,
                                  $9::float8 / (111320.0 * cos(radians(least(abs(ST_Y(pt.geom)) + 0.01, 89.9)))),
                                  $9::float8 / 110574.0)
      AND ST_DWithin(c.location::geography, pt.geom::geography, $9::float8)
    ORDER BY ST_Distance(c.location::geography, pt.geom::geography), c.id
    LIMIT 1
    FOR UPDATE OF c
)
SELECT json_build_object(
    'grid', (SELECT json_build_object('id', id, 'code', code, 'name', name, 'level', level, 'version', version,
                                      'district_code', district_code) FROM target),
    'district', (SELECT json_build_object('id', id, 'code', code, 'name', name, 'level', level)
                 FROM chain WHERE level = 1),
    'edge_m', (SELECT ST_Distance(ST_Segmentize(ST_Boundary(t.boundary), 0.0001)::geography, pt.geom::geography)
               FROM target t CROSS JOIN pt),
    'leader', (SELECT row_to_json(people) FROM people WHERE kind = 'leader'),
    'officer', (SELECT row_to_json(people) FROM people WHERE kind = 'officer'),
    'rule', (SELECT row_to_json(rule) FROM rule),
    'office', (SELECT row_to_json(office) FROM office),
    'duplicate', (SELECT row_to_json(duplicate) FROM duplicate)
)
"""

# The category a report names ($1, its code), if active, with its major and the default departments of
# both (without their jurisdiction polygons): what intake reads of it (selectors.reportable_category).
# Every column of a category is a JSON type (numbers, text, the attributes list), so its row goes
# whole; a department's are listed to leave its polygon out. A prepared statement: the ORM took
# longer to compile the same select_related query (1.2 ms) than the database to run it.
REPORTABLE_CATEGORY = """
SELECT json_build_object(
    'category', to_jsonb(c),
    'parent', to_jsonb(p),
    'default_department', (SELECT json_build_object('id', d.id, 'code', d.code, 'name', d.name, 'name_en', d.name_en,
                                                    'kind', d.kind, 'phone', d.phone, 'district_id', d.district_id)
                           FROM grids_department d WHERE d.id = c.default_department_id),
    'parent_default_department', (SELECT json_build_object('id', d.id, 'code', d.code, 'name', d.name,
                                                           'name_en', d.name_en, 'kind', d.kind, 'phone', d.phone,
                                                           'district_id', d.district_id)
                                  FROM grids_department d WHERE d.id = p.default_department_id)
)
FROM incidents_category c
LEFT JOIN incidents_category p ON p.id = c.parent_id
WHERE c.code = $1::text AND c.is_active
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

# How far the point ($1 lon, $2 lat, EPSG:4326) is from the districts this server serves, in metres:
# 0 when a district covers it (every report a grid can take: one index probe and a point-in-polygon
# test), else the distance to the nearest district's boundary as NEAREST_DISTRICT measures it (the
# geography distance to a 1,200-vertex outline costs milliseconds); null with no district at all. A
# prepared statement (common.prepared): every report asks it before anything else.
SERVICE_AREA_DISTANCE = """
WITH pt AS MATERIALIZED (
    SELECT ST_SetSRID(ST_MakePoint($1::float8, $2::float8), 4326) AS geom
)
SELECT CASE
    WHEN EXISTS (SELECT 1 FROM grids_grid g CROSS JOIN pt
                 WHERE g.is_active AND g.level = 1 AND ST_Covers(g.boundary, pt.geom)) THEN 0.0
    ELSE (SELECT min(ST_Distance(c.boundary::geography, pt.geom::geography))
          FROM pt CROSS JOIN LATERAL (
              SELECT g.boundary FROM grids_grid g
              WHERE g.is_active AND g.level = 1
              ORDER BY g.boundary <-> pt.geom
              LIMIT 8
          ) c)
END
FROM pt
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

# One rung of the escalation ladder, set-based: every open case that sits on the rung below and is
# at least `hours` past its stage's due time climbs one rung, and each climb is written to the trail.
# Hours late count in the clock of the case's limit: working hours for a working-time limit (a case
# due on Friday evening is not 24 working hours late until Monday evening). The two cut-offs are
# computed once (gridgis_working_back), so the per-row test stays a comparison of timestamps.
# Concurrent runs are safe: the second UPDATE re-checks `escalation_level` after the first commits.
ESCALATE_ONE_RUNG = """
WITH cutoff AS (
    SELECT %(now)s::timestamptz - %(hours)s * interval '1 hour' AS clock,
           gridgis_working_back(%(now)s, %(hours)s * 3600.0) AS working
),
climbed AS (
    UPDATE incidents_case c
    SET escalation_level = %(level)s, version = c.version + 1, updated_at = %(now)s
    FROM cutoff k
    WHERE c.escalation_level = %(level)s - 1
      AND c.status = ANY(%(open_statuses)s)
      AND c.due_at <= CASE WHEN c.due_clock = 'working' THEN k.working ELSE k.clock END
    RETURNING c.id, c.status, c.due_at, c.due_clock
)
INSERT INTO incidents_trailentry
    (case_id, at, actor_id, actor_name, action, from_status, to_status, note, escalation_level, data)
SELECT id, %(now)s, NULL, 'system', 'escalate', status, status, %(note)s, %(level)s,
       jsonb_build_object('due_at', due_at, 'threshold_hours', %(hours)s, 'clock', due_clock)
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

# Stamp grids as they are drawn now (after a successful reassignment): all of them (%(all)s) or the
# ones listed; stamps of deleted grids go.
RESTAMP_GRIDS = """
WITH gone AS (
    DELETE FROM incidents_gridstamp s WHERE NOT EXISTS (SELECT 1 FROM grids_grid g WHERE g.id = s.grid_id)
)
INSERT INTO incidents_gridstamp (grid_id, version, digest, is_active)
SELECT g.id, g.version, md5(ST_AsEWKB(g.boundary)), g.is_active FROM grids_grid g
WHERE %(all)s OR g.id = ANY(%(grid_ids)s)
ON CONFLICT (grid_id) DO UPDATE
SET version = EXCLUDED.version, digest = EXCLUDED.digest, is_active = EXCLUDED.is_active
"""


# Reassignment works in two steps inside one transaction: first each examined case whose answer
# differs from what it holds goes into the temporary table reassign_answer (the old grid and the grid
# the one rule gives it now), by one of the two statements below, which answer how many cases they
# examined; then APPLY_ANSWERS writes those cases and TRAIL_MOVES a trail entry for each case that
# moved to another grid. Between the two, reassign.py chooses how to write.
# The table is made once per connection and emptied at every commit (ON COMMIT DELETE ROWS): an online
# run fills it once per batch, a thousand times at city scale, and a table made and dropped each time
# would write and delete its rows in the system catalogues as often. Inside an enclosing transaction
# (tests) an earlier run's rows may still be there, hence the DELETE.
CREATE_ANSWERS = """
CREATE TEMP TABLE IF NOT EXISTS reassign_answer (
    id bigint PRIMARY KEY,
    status varchar(12) NOT NULL,
    old_grid_id bigint,
    old_version integer,
    grid_id bigint,
    grid_version integer,
    new_district varchar(6)
) ON COMMIT DELETE ROWS;
DELETE FROM reassign_answer
"""

# The shared tail of the two statements below, which each end with a CTE `answers` (id, status,
# old_grid_id, old_version, grid_id, grid_version, new_district): only the answers that differ from
# what the case holds are kept (in a usual run, a handful out of every case examined), and the
# statement answers how many it examined.
_KEEP_CHANGED_ANSWERS = """
kept AS (
    INSERT INTO reassign_answer (id, status, old_grid_id, old_version, grid_id, grid_version, new_district)
    SELECT a.id, a.status, a.old_grid_id, a.old_version, a.grid_id, a.grid_version, a.new_district
    FROM answers a
    WHERE a.old_grid_id IS DISTINCT FROM a.grid_id OR a.old_version IS DISTINCT FROM a.grid_version
)
SELECT count(*) FROM answers
"""

# The same tail for an online run (layers/incidents/reassign.py): the answers go into the run's rows of
# incidents_reassignanswer, which outlive the transaction (a resumed run goes on from them).
_STORE_CHANGED_ANSWERS = """
kept AS (
    INSERT INTO incidents_reassignanswer
        (run_id, case_id, status, old_grid_id, old_version, grid_id, grid_version, new_district)
    SELECT %(run)s, a.id, a.status, a.old_grid_id, a.old_version, a.grid_id, a.grid_version, a.new_district
    FROM answers a
    WHERE a.old_grid_id IS DISTINCT FROM a.grid_id OR a.old_version IS DISTINCT FROM a.grid_version
    ON CONFLICT (run_id, case_id) DO NOTHING
)
SELECT count(*) FROM answers
"""

# Every case of one district, driven by the grids as the plans advise: for each active leaf grid of
# the district (no active children; micro-grids in a full tree), a LATERAL index scan of the cases it
# covers (GiST on incidents_case.location) with the prepared leaf polygon. A hit on the deepest level
# (%(deepest)s, micro-grid) is final: nothing can be smaller, and DISTINCT ON keeps the lowest code
# where leaves overlap, as grids_smallest_covering does. Every other case (a shallower leaf, a gap
# inside a parent, another district, a dead corner) is looked up by that function itself.
_DISTRICT_ANSWERS = """
WITH leaves AS MATERIALIZED (
    SELECT g.id, g.level, g.code, g.version, g.boundary
    FROM grids_grid g
    WHERE g.is_active AND g.district_code = %(district)s
      AND NOT EXISTS (SELECT 1 FROM grids_grid ch WHERE ch.parent_id = g.id AND ch.is_active)
),
hits AS MATERIALIZED (
    SELECT DISTINCT ON (c.id) c.id AS case_id, l.id AS grid_id, l.version AS grid_version, l.level
    FROM leaves l
    CROSS JOIN LATERAL (
        -- Only the spatial index: a district_code condition here would make the planner AND a bitmap
        -- of the whole district into every leaf's scan. Cases of other districts found here are
        -- ignored below (only this district's cases are kept) and found by their own district's run.
        SELECT c.id FROM incidents_case c WHERE ST_Covers(l.boundary, c.location)
    ) c
    ORDER BY c.id, l.level DESC, l.code
),
answers AS MATERIALIZED (
    SELECT e.id, e.status, e.old_grid_id, e.old_version,
           COALESCE(e.hit_id, (e.exact).id) AS grid_id, COALESCE(e.hit_version, (e.exact).version) AS grid_version,
           (e.exact).district_code AS new_district
    FROM (
        SELECT c.id, c.status, c.grid_id AS old_grid_id, c.grid_version AS old_version,
               CASE WHEN h.level = %(deepest)s THEN h.grid_id END AS hit_id,
               CASE WHEN h.level = %(deepest)s THEN h.grid_version END AS hit_version,
               -- The rule itself (grids_smallest_covering, migration grids 0003), evaluated only for the
               -- cases the micro-grid scan did not settle.
               CASE WHEN h.level IS DISTINCT FROM %(deepest)s
                    THEN (SELECT f FROM grids_smallest_covering(c.location) f) END AS exact
        FROM incidents_case c
        LEFT JOIN hits h ON h.case_id = c.id
        WHERE c.district_code = %(district)s
    ) e
),"""
ANSWERS_FOR_DISTRICT = _DISTRICT_ANSWERS + _KEEP_CHANGED_ANSWERS
STORE_ANSWERS_FOR_DISTRICT = _DISTRICT_ANSWERS + _STORE_CHANGED_ANSWERS

# Only the cases a redraw can affect: those assigned to a changed grid, and those inside a changed
# grid's new boundary. Each is looked up again by the one rule, the SQL function
# grids_smallest_covering (inlined by PostgreSQL: an index scan per case).
_CHANGED_GRID_ANSWERS = """
WITH changed AS (
    SELECT g.id, g.boundary, g.is_active FROM grids_grid g WHERE g.id = ANY(%(grid_ids)s)
),
candidates AS (
    SELECT c.id FROM incidents_case c WHERE c.grid_id = ANY(%(grid_ids)s)
    UNION
    SELECT c.id FROM changed g JOIN incidents_case c ON ST_Covers(g.boundary, c.location) WHERE g.is_active
),
answers AS MATERIALIZED (
    SELECT c.id, c.status, c.grid_id AS old_grid_id, c.grid_version AS old_version,
           f.id AS grid_id, f.version AS grid_version, f.district_code AS new_district
    FROM candidates k
    JOIN incidents_case c ON c.id = k.id
    LEFT JOIN LATERAL grids_smallest_covering(c.location) f ON true
),"""
ANSWERS_FOR_CHANGED_GRIDS = _CHANGED_GRID_ANSWERS + _KEEP_CHANGED_ANSWERS
STORE_ANSWERS_FOR_CHANGED_GRIDS = _CHANGED_GRID_ANSWERS + _STORE_CHANGED_ANSWERS

# An online run writes its stored answers in batches of case ids, each batch its own short transaction:
# the last case id of the next batch after %(after)s and how many answers it holds, then that batch copied into reassign_answer for
# the shared statements below. The case's current grid and status are read again at that moment: an
# answer a case no longer needs (already written by an earlier attempt) is left out.
NEXT_BATCH_END = """
SELECT max(case_id), count(*) FROM (
    SELECT case_id FROM incidents_reassignanswer
    WHERE run_id = %(run)s AND case_id > %(after)s AND case_id <= %(until)s ORDER BY case_id LIMIT %(batch)s
) b
"""
LOAD_BATCH = """
INSERT INTO reassign_answer (id, status, old_grid_id, old_version, grid_id, grid_version, new_district)
SELECT c.id, c.status, c.grid_id, c.grid_version, a.grid_id, a.grid_version, a.new_district
FROM incidents_reassignanswer a
JOIN incidents_case c ON c.id = a.case_id
WHERE a.run_id = %(run)s AND a.case_id > %(after)s AND a.case_id <= %(through)s
  AND (c.grid_id IS DISTINCT FROM a.grid_id OR c.grid_version IS DISTINCT FROM a.grid_version)
"""
STORED_ANSWERS = "SELECT count(*) FROM incidents_reassignanswer WHERE run_id = %(run)s"

# The writers of an online run share its answers in %(slices)s runs of case ids about as long each:
# the last case id of each (fewer when there are fewer answers than writers).
ANSWER_SLICES = """
SELECT max(case_id) FROM (
    SELECT case_id, ntile(%(slices)s) OVER (ORDER BY case_id) AS slice
    FROM incidents_reassignanswer WHERE run_id = %(run)s
) s
GROUP BY slice ORDER BY slice
"""

# One district's checkpoint in the examine step, committed with its answers: the district joins the
# examined ones and its count the total, merged into the run's state by the row's own update, so that
# districts examined side by side never undo each other's.
CHECKPOINT_DISTRICT = """
UPDATE common_jobrun
SET state = jsonb_set(
        jsonb_set(state, '{examined_districts}', (state -> 'examined_districts') || to_jsonb(%(district)s::text)),
        '{examined}', to_jsonb((state ->> 'examined')::bigint + %(examined)s)),
    progress = %(progress)s, message = %(message)s
WHERE id = %(run)s
"""

# One writer's checkpoint: its slice of the run's state (common_jobrun.state -> 'slices' -> %(index)s),
# committed with the batch it counts. Only that slice is written, so writers never undo each other's.
CHECKPOINT_SLICE = """
UPDATE common_jobrun
SET state = jsonb_set(state, ARRAY['slices', %(index)s], %(slice)s::jsonb),
    progress = %(progress)s, message = %(message)s
WHERE id = %(run)s
"""
FORGET_ANSWERS = "DELETE FROM incidents_reassignanswer WHERE run_id = %(run)s"

# How many answers there are to write, and about how many cases the table holds.
COUNT_ANSWERS = """
SELECT count(*), (SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = 'incidents_case'::regclass)
FROM reassign_answer
"""

# Who is on duty for each grid a case moves to (grids_on_duty, the one rule), once per grid: the
# write and the trail below both read it. The table first, then its rows: a statement with parameters
# is one command (server-side binding).
STAFF_TABLE = """
CREATE TEMP TABLE IF NOT EXISTS reassign_staffed (id bigint PRIMARY KEY, leader_id bigint, officer_id bigint)
    ON COMMIT DELETE ROWS;
DELETE FROM reassign_staffed;
"""
STAFF_ANSWERS = """
INSERT INTO reassign_staffed (id, leader_id, officer_id)
SELECT g.id,
       (SELECT person_id FROM grids_on_duty(g.code, 'leader', %(today)s)) AS leader_id,
       (SELECT person_id FROM grids_on_duty(g.code, 'officer', %(today)s)) AS officer_id
FROM grids_grid g
WHERE g.id IN (SELECT a.grid_id FROM reassign_answer a WHERE a.old_grid_id IS DISTINCT FROM a.grid_id)
"""

# Write the changed answers: grid, grid version and dead-corner flag, the district when the rule
# gives one, the case's version when its grid changed. An open case that moves also gets the leader
# and officer on duty for its new grid (none on a dead corner); a closed case keeps the people who
# worked it. Two statements rather than one with data-modifying CTEs: at 2.2 million rows the CTEs'
# RETURNING buffers cost 5 s.
APPLY_ANSWERS = """
UPDATE incidents_case c
SET grid_id = a.grid_id,
    grid_version = a.grid_version,
    dead_corner = a.grid_id IS NULL,
    district_code = COALESCE(a.new_district, c.district_code),
    leader_id = CASE WHEN a.old_grid_id IS DISTINCT FROM a.grid_id AND c.status = ANY(%(open_statuses)s)
                     THEN s.leader_id ELSE c.leader_id END,
    officer_id = CASE WHEN a.old_grid_id IS DISTINCT FROM a.grid_id AND c.status = ANY(%(open_statuses)s)
                      THEN s.officer_id ELSE c.officer_id END,
    version = c.version + CASE WHEN a.old_grid_id IS DISTINCT FROM a.grid_id THEN 1 ELSE 0 END,
    updated_at = %(now)s
FROM reassign_answer a
LEFT JOIN reassign_staffed s ON s.id = a.grid_id
WHERE c.id = a.id
"""

# One trail entry per case that moved to another grid.
TRAIL_MOVES = """
INSERT INTO incidents_trailentry
    (case_id, at, actor_id, actor_name, action, from_status, to_status, note, escalation_level, data)
SELECT a.id, %(now)s, NULL, 'system', 'reassign', a.status, a.status, %(note)s, NULL,
       jsonb_build_object('from_grid', og.code, 'to_grid', ng.code, 'grid_version', a.grid_version,
                          'on_duty', CASE WHEN a.status = ANY(%(open_statuses)s)
                                          THEN jsonb_build_object('leader', s.leader_id, 'officer', s.officer_id)
                                     END)
FROM reassign_answer a
LEFT JOIN reassign_staffed s ON s.id = a.grid_id
LEFT JOIN grids_grid og ON og.id = a.old_grid_id
LEFT JOIN grids_grid ng ON ng.id = a.grid_id
WHERE a.old_grid_id IS DISTINCT FROM a.grid_id
"""

# Bulk writes set foreign keys and indexes aside and restore them afterwards, as PostgreSQL's manual
# advises for bulk loads: row by row, every written row queues a check of each key and an entry in
# each index; a key added back checks its whole table in one join, an index is built from sorted
# input. Both statements return (drop, restore, name) DDL pairs generated from the catalogue
# (regclass and quote_ident quote the names).

# The foreign keys declared on %(tables)s; with %(columns)s ("table.column"), only the keys on those.
FOREIGN_KEYS_ON = """
SELECT 'ALTER TABLE ' || c.conrelid::regclass || ' DROP CONSTRAINT ' || quote_ident(c.conname),
       'ALTER TABLE ' || c.conrelid::regclass || ' ADD CONSTRAINT ' || quote_ident(c.conname) || ' '
           || pg_get_constraintdef(c.oid),
       c.conname::text
FROM pg_constraint c
WHERE c.contype = 'f' AND c.conrelid = ANY(%(tables)s::regclass[])
  AND (%(columns)s::text[] IS NULL OR EXISTS (
      SELECT 1 FROM pg_attribute a
      WHERE a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey)
        AND c.conrelid::regclass::text || '.' || a.attname = ANY(%(columns)s::text[])))
ORDER BY 3
"""

# The case table's full plain indexes. Unique and primary-key indexes stay, and so do partial ones:
# they hold only the few rows that match and cost little to keep.
PLAIN_CASE_INDEXES = """
SELECT 'DROP INDEX ' || x.indexrelid::regclass, pg_get_indexdef(x.indexrelid), x.indexrelid::regclass::text
FROM pg_index x
WHERE x.indrelid = 'incidents_case'::regclass AND NOT x.indisunique AND NOT x.indisprimary AND x.indpred IS NULL
ORDER BY 3
"""

# The districts that hold cases, for a full run (blank: cases outside every district).
CASE_DISTRICTS = "SELECT DISTINCT district_code FROM incidents_case ORDER BY district_code"

# Likely duplicates of a case, for the dispatcher to merge ("me too") or leave: open cases of the same
# category reported within %(days)s days of it and within %(metres)s metres, nearest first. The same
# box-then-metres test as the intake's duplicate search above (the GiST index on location finds the
# candidates in a box that holds the circle, then the exact distance on the geography).
LIKELY_DUPLICATES = """
SELECT c.id, ST_Distance(c.location::geography, me.location::geography) AS metres
FROM incidents_case me
JOIN incidents_case c
  ON c.category_id = me.category_id
 AND c.id <> me.id
 AND c.status = ANY(%(open)s)
 AND c.reported_at BETWEEN me.reported_at - make_interval(days => %(days)s)
                       AND me.reported_at + make_interval(days => %(days)s)
 AND c.location && ST_Expand(me.location,
                             %(metres)s / (111320.0 * cos(radians(least(abs(ST_Y(me.location)) + 0.01, 89.9)))),
                             %(metres)s / 110574.0)
 AND ST_DWithin(c.location::geography, me.location::geography, %(metres)s)
WHERE me.id = %(case)s
ORDER BY metres, c.id
LIMIT %(limit)s
"""

# The grids a case near an edge could belong to instead of its own: active leaf grids (no active
# child) within %(metres)s metres of the point, nearest first, the case's own grid left out. The
# dispatcher picks one when the point was placed on the wrong side of a street.
EDGE_ALTERNATIVES = """
SELECT g.id, ST_Distance(g.boundary::geography, c.location::geography) AS metres
FROM incidents_case c
JOIN grids_grid g
  ON g.is_active
 AND g.id IS DISTINCT FROM c.grid_id
 AND g.boundary && ST_Expand(c.location,
                             %(metres)s / (111320.0 * cos(radians(least(abs(ST_Y(c.location)) + 0.01, 89.9)))),
                             %(metres)s / 110574.0)
 AND ST_DWithin(g.boundary::geography, c.location::geography, %(metres)s)
 AND NOT EXISTS (SELECT 1 FROM grids_grid k WHERE k.parent_id = g.id AND k.is_active)
WHERE c.id = %(case)s
ORDER BY metres, g.code
LIMIT 10
"""

# Who is on duty for a grid on a day, walking up the tree (the grids layer's one rule, grids_on_duty).
ON_DUTY = """
SELECT (SELECT person_id FROM grids_on_duty(%(code)s, 'leader', %(today)s)) AS leader_id,
       (SELECT person_id FROM grids_on_duty(%(code)s, 'officer', %(today)s)) AS officer_id,
       (SELECT grid_code_on_duty FROM grids_on_duty(%(code)s, 'leader', %(today)s)) AS leader_grid,
       (SELECT grid_code_on_duty FROM grids_on_duty(%(code)s, 'officer', %(today)s)) AS officer_grid
"""

# --- Stage limits applied to open cases (layers/incidents/services.py: apply_stage_limits) ---------------

# Every open case of the listed (category, status) pairs gets the deadline its current stage's limit
# gives from when that stage started, in one statement, with a trail entry for each case whose due
# time or clock changes (the new deadlines by the one rule, gridgis_due_at, inlined).
APPLY_STAGE_LIMITS = """
WITH limits AS (
    SELECT * FROM unnest(%(category_ids)s::bigint[], %(statuses)s::text[], %(minutes)s::int[], %(clocks)s::text[])
        AS l(category_id, status, minutes, clock)
),
started AS (
    -- When the stage began: as recorded, or, for a case opened before the clocks were kept (a database
    -- upgraded with open cases), the trail entry that moved it into its status, else its report.
    SELECT o.id, o.due_at, o.status, l.clock, l.minutes, o.stage_started_at IS NULL AS from_trail,
           coalesce(o.stage_started_at,
                    (SELECT max(t.at) FROM incidents_trailentry t
                      WHERE t.case_id = o.id AND t.to_status = o.status AND t.from_status <> t.to_status),
                    o.reported_at) AS began
    FROM limits l
    JOIN incidents_case o ON o.category_id = l.category_id AND o.status = l.status
),
recomputed AS (
    SELECT s.id, s.due_at AS old_due, d.due AS new_due, s.clock, s.minutes, s.began, s.from_trail
    FROM started s
    CROSS JOIN LATERAL gridgis_due_at(s.began, s.minutes, s.clock) AS d
),
changed AS (
    UPDATE incidents_case c
    SET due_at = r.new_due, due_clock = r.clock, stage_started_at = r.began, version = c.version + 1,
        updated_at = %(now)s
    FROM recomputed r
    WHERE r.id = c.id
      AND (c.due_at IS DISTINCT FROM r.new_due OR c.due_clock IS DISTINCT FROM r.clock OR r.from_trail)
    RETURNING c.id, c.status, r.old_due, c.due_at AS new_due, c.due_clock, r.minutes, r.from_trail
)
INSERT INTO incidents_trailentry
    (case_id, at, actor_id, actor_name, action, from_status, to_status, note, escalation_level, data)
SELECT id, %(now)s, %(actor_id)s, %(actor_name)s, 'limits', status, status, %(note)s, NULL,
       jsonb_build_object('due_at', jsonb_build_object('from', old_due, 'to', new_due),
                          'clock', due_clock, 'limit_minutes', minutes, 'stage_start_from_trail', from_trail)
FROM changed
"""


# --- Suspensions and supervision orders (layers/incidents/requests.py, escalation.py) ----------------------

# Suspended cases whose review date has come get one 'review_due' trail entry each (none twice for one
# suspension: an entry after the latest approval of a suspension counts).
REVIEW_SUSPENSIONS = """
INSERT INTO incidents_trailentry
    (case_id, at, actor_id, actor_name, action, from_status, to_status, note, escalation_level, data)
SELECT c.id, %(now)s, NULL, 'system', 'review_due', c.status, c.status,
       'suspension review date reached: resume the case or ask for a new suspension', NULL,
       jsonb_build_object('review_on', c.review_on)
FROM incidents_case c
WHERE c.status = 'suspended' AND c.review_on <= %(today)s
  AND NOT EXISTS (
      SELECT 1 FROM incidents_trailentry t
      WHERE t.case_id = c.id AND t.action = 'review_due'
        AND t.at >= (SELECT max(a.at) FROM incidents_trailentry a
                     WHERE a.case_id = c.id AND a.action = 'approve_suspension'))
"""

# One rung of the ladder for supervision orders not answered `hours` after their answer-by time (clock
# hours: the leader set a date and time), each climb a trail entry on the case.
ESCALATE_SUPERVISION_RUNG = """
WITH climbed AS (
    UPDATE incidents_supervisionorder o
    SET escalation_level = %(level)s
    WHERE o.escalation_level = %(level)s - 1
      AND o.replied_at IS NULL
      AND o.answer_by <= %(now)s::timestamptz - %(hours)s * interval '1 hour'
    RETURNING o.id, o.case_id, o.answer_by
)
INSERT INTO incidents_trailentry
    (case_id, at, actor_id, actor_name, action, from_status, to_status, note, escalation_level, data)
SELECT k.case_id, %(now)s, NULL, 'system', 'escalate_order', c.status, c.status, %(note)s, %(level)s,
       jsonb_build_object('order', k.id, 'answer_by', k.answer_by, 'threshold_hours', %(hours)s)
FROM climbed k JOIN incidents_case c ON c.id = k.case_id
"""
