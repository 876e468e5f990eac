"""The audits' SQL: one named statement per kind of dead corner, parameters only (and the assessment's).

Every statement audits one district's share of the tree (`%(district)s`, matched against the
indexed `grids_grid.district_code`), writes its findings into audits_finding for run `%(run)s` in
the same statement (a data-modifying CTE, so that nothing crosses to Python row by row) and returns
one row: (findings written, slivers counted, sliver area in m²). Areas are measured on the
spheroid through `::geography`, never in degrees, after segmentizing to `%(segment)s` degrees so that
the arcs follow the stored straight edges (common.dbfuncs.AreaM2 explains why); `%(min_area)s` is the
size in m² under which a part is a sliver (digitising noise) that is counted, not listed. The overlay functions work on a
grid of `%(snap)s` degrees (GEOS's fixed-precision overlay; 1e-7° is about 1 cm): two boundaries
digitised from the same line differ in the 15th decimal, and without snapping every shared edge
would leave thousands of zero-width "slivers" whose geodesic area is not even zero (a long straight
edge in lon/lat and the same edge with intermediate vertices enclose a lens on the spheroid).

Only active grids are audited; a parent counts as a parent when it has at least one child row,
active or not (a leaf has nothing to tile it). A city's districts, whose district codes differ from
the city's, are reached through parent_id from the city's own chunk.
"""

GAP = """
WITH parents AS MATERIALIZED (  -- materialized: inlined, the union would be computed twice per parent
    SELECT p.id, p.code, p.name, p.district_code, p.boundary,
           (SELECT ST_Union(c.boundary) FROM grids_grid c
             WHERE c.parent_id = p.id AND c.is_active) AS covered
      FROM grids_grid p
     WHERE p.is_active AND p.district_code = %(district)s
       AND EXISTS (SELECT 1 FROM grids_grid c WHERE c.parent_id = p.id)
), parts AS (
    SELECT p.id, p.code, p.name, p.district_code, part.geom
      FROM parents p,
           LATERAL ST_Dump(CASE WHEN p.covered IS NULL THEN p.boundary
                                ELSE ST_Difference(p.boundary, p.covered, %(snap)s) END) AS part
     WHERE ST_Dimension(part.geom) = 2
), measured AS (
    SELECT parts.*, ST_Area(ST_Segmentize(parts.geom, %(segment)s)::geography) AS area FROM parts
), written AS (
    INSERT INTO audits_finding (run_id, kind, geometry, measure, unit, grid_id, grid_code, grid_name,
                                other_grid_id, other_grid_code, case_id, point_id, estate_id, district_code, detail)
    SELECT %(run)s, 'gap', geom, area, 'm2', id, code, name, NULL, '', NULL, NULL, NULL, district_code,
           jsonb_build_object('uncovered_by', 'children')
      FROM measured WHERE area >= %(min_area)s
    RETURNING 1
)
SELECT (SELECT count(*) FROM written),
       count(*) FILTER (WHERE area < %(min_area)s),
       coalesce(sum(area) FILTER (WHERE area < %(min_area)s), 0)
  FROM measured
"""

# Two steps. First, per family (a parent's active children), the children's summed area minus the area
# of their union: it is the area covered twice or more, and it bounds every pairwise overlap from
# above, so a family whose excess is below %(noise)s m² has no overlap worth a pair test. This costs
# one union per family; a tree of clean tilings needs nothing more. Second, in the families left,
# siblings are paired by parent_id and the bounding-box operator (either index may drive the join),
# ST_Relate 'T********' (interiors meet) drops neighbours that only share an edge, and the overlap is
# the snapped intersection. Each pair is reported once, under the sibling with the lower code.
OVERLAP = """
WITH families AS (
    SELECT c.parent_id
      FROM grids_grid c
     WHERE c.is_active
       AND c.parent_id IN (SELECT k.parent_id FROM grids_grid k
                            WHERE k.is_active AND k.district_code = %(district)s AND k.parent_id IS NOT NULL)
     GROUP BY c.parent_id
    HAVING count(*) > 1
       AND sum(ST_Area(c.boundary::geography)) - ST_Area(ST_Union(c.boundary)::geography) > %(noise)s
), pairs AS (
    SELECT a.id AS a_id, a.code AS a_code, a.name AS a_name, a.district_code,
           b.id AS b_id, b.code AS b_code, b.name AS b_name,
           ST_CollectionExtract(ST_Intersection(a.boundary, b.boundary, %(snap)s), 3) AS geom
      FROM families f
      JOIN grids_grid a ON a.parent_id = f.parent_id
      JOIN grids_grid b
        ON b.parent_id = a.parent_id AND b.code > a.code AND b.is_active
       AND b.boundary && a.boundary AND ST_Relate(a.boundary, b.boundary, 'T********')
     WHERE a.is_active AND a.district_code = %(district)s
), measured AS (
    SELECT pairs.*, ST_Area(ST_Segmentize(pairs.geom, %(segment)s)::geography) AS area FROM pairs
), written AS (
    INSERT INTO audits_finding (run_id, kind, geometry, measure, unit, grid_id, grid_code, grid_name,
                                other_grid_id, other_grid_code, case_id, point_id, estate_id, district_code, detail)
    SELECT %(run)s, 'overlap', geom, area, 'm2', a_id, a_code, a_name, b_id, b_code, NULL, NULL, NULL,
           district_code,
           jsonb_build_object('other_grid_name', b_name)
      FROM measured WHERE area >= %(min_area)s
    RETURNING 1
)
SELECT (SELECT count(*) FROM written),
       count(*) FILTER (WHERE area < %(min_area)s),
       coalesce(sum(area) FILTER (WHERE area < %(min_area)s), 0)
  FROM measured
"""

# The parts of a child that its parent does not cover. ST_CoveredBy against the parent padded by the
# snapping distance first, so that the difference is computed only for the few children that stick
# out: children cut from their parent (Voronoi cells clipped to it, imported files) have vertices a
# few ulps off the parent's edge, which fails a strict ST_CoveredBy for most of them.
OUTSIDE_PARENT = """
WITH parts AS (
    SELECT c.id, c.code, c.name, c.district_code, p.id AS parent_id, p.code AS parent_code, part.geom
      FROM grids_grid c
      JOIN grids_grid p ON p.id = c.parent_id,
           LATERAL ST_Dump(ST_Difference(c.boundary, p.boundary, %(snap)s)) AS part
     WHERE c.is_active AND c.district_code = %(district)s
       AND NOT ST_CoveredBy(c.boundary, ST_Buffer(p.boundary, %(snap)s))
       AND ST_Dimension(part.geom) = 2
), measured AS (
    SELECT parts.*, ST_Area(ST_Segmentize(parts.geom, %(segment)s)::geography) AS area FROM parts
), written AS (
    INSERT INTO audits_finding (run_id, kind, geometry, measure, unit, grid_id, grid_code, grid_name,
                                other_grid_id, other_grid_code, case_id, point_id, estate_id, district_code, detail)
    SELECT %(run)s, 'outside_parent', geom, area, 'm2', id, code, name, parent_id, parent_code, NULL, NULL, NULL,
           district_code, jsonb_build_object('outside_of', parent_code)
      FROM measured WHERE area >= %(min_area)s
    RETURNING 1
)
SELECT (SELECT count(*) FROM written),
       count(*) FILTER (WHERE area < %(min_area)s),
       coalesce(sum(area) FILTER (WHERE area < %(min_area)s), 0)
  FROM measured
"""

# A leader is expected on every active grid of %(leader_level)s, an officer on every active grid of
# %(officer_level)s (settings.GRIDGIS AUDIT_DUTY_LEVELS: communities and unit grids by default), bound
# to that grid itself and in force on %(on)s. A duty higher up does not stand in: a street's leader
# answers for the street, while each community is meant to have its own (one per community in
# Longmatan), and an officer patrols the grid he is bound to. Grids below the expected level share
# their ancestor's duty (locate walks up the tree), so they are not checked. The measure is the
# number of missing duties (1 or 2); slivers do not apply.
ORPHAN = """
WITH targets AS (
    SELECT g.id, g.code, g.name, g.district_code, g.boundary,
           g.level = %(leader_level)s AS wants_leader, g.level = %(officer_level)s AS wants_officer
      FROM grids_grid g
     WHERE g.is_active AND g.district_code = %(district)s
       AND g.level IN (%(leader_level)s, %(officer_level)s)
), held AS (
    SELECT t.*,
           EXISTS (SELECT 1 FROM grids_duty d
                    WHERE d.grid_id = t.id AND d.kind = 'leader'
                      AND d.starts_on <= %(on)s AND (d.ends_on IS NULL OR d.ends_on >= %(on)s)) AS has_leader,
           EXISTS (SELECT 1 FROM grids_duty d
                    WHERE d.grid_id = t.id AND d.kind = 'officer'
                      AND d.starts_on <= %(on)s AND (d.ends_on IS NULL OR d.ends_on >= %(on)s)) AS has_officer
      FROM targets t
), missing AS (
    SELECT held.*,
           array_remove(ARRAY[CASE WHEN wants_leader AND NOT has_leader THEN 'leader' END,
                              CASE WHEN wants_officer AND NOT has_officer THEN 'officer' END], NULL) AS duties
      FROM held
), written AS (
    INSERT INTO audits_finding (run_id, kind, geometry, measure, unit, grid_id, grid_code, grid_name,
                                other_grid_id, other_grid_code, case_id, point_id, estate_id, district_code, detail)
    SELECT %(run)s, 'orphan', boundary, cardinality(duties), 'count', id, code, name, NULL, '', NULL, NULL, NULL,
           district_code, jsonb_build_object('missing', to_jsonb(duties))
      FROM missing WHERE cardinality(duties) > 0
    RETURNING 1
)
SELECT (SELECT count(*) FROM written), 0, 0
"""

# Cases (incidents app) of one category clustered by ST_ClusterDBSCAN in the metric CRS %(metric_srid)s
# (EPSG:4544, CGCS2000 Gauss-Krüger 105°E, for Luzhou): a case with at least %(cases)s cases of its
# category (itself included) within %(metres)s m is a core case, and the cases reachable from core
# cases form a hotspot. Cases reported in [%(since)s, %(until)s), duplicates and rejected reports
# left out (a "me too" is the same problem, a rejection is not one). Clustered per district: the
# district is the chunk and the case table's distribution key. The finding is the convex hull of its
# cases (a line or point when they are collinear or coincide), measured in cases, and names the grid
# most of its cases were assigned to.
HOTSPOT = """
WITH recent AS (
    SELECT c.id, c.category_id, c.location, c.grid_id
      FROM incidents_case c
     WHERE c.district_code = %(district)s
       AND c.reported_at >= %(since)s AND c.reported_at < %(until)s
       AND c.duplicate_of_id IS NULL AND c.status NOT IN ('duplicate', 'rejected')
), clustered AS (
    SELECT recent.*,
           ST_ClusterDBSCAN(ST_Transform(location, %(metric_srid)s), eps := %(metres)s, minpoints := %(cases)s)
               OVER (PARTITION BY category_id) AS cluster
      FROM recent
), clusters AS (
    SELECT category_id, cluster, count(*) AS n, ST_ConvexHull(ST_Collect(location)) AS geom,
           (array_agg(id ORDER BY id))[1:50] AS case_ids,
           mode() WITHIN GROUP (ORDER BY grid_id) AS grid_id
      FROM clustered WHERE cluster IS NOT NULL
     GROUP BY category_id, cluster
), written AS (
    INSERT INTO audits_finding (run_id, kind, geometry, measure, unit, grid_id, grid_code, grid_name,
                                other_grid_id, other_grid_code, case_id, point_id, estate_id, district_code, detail)
    SELECT %(run)s, 'hotspot', k.geom, k.n, 'count', g.id, coalesce(g.code, ''), coalesce(g.name, ''), NULL, '',
           NULL, NULL, NULL, %(district)s,
           jsonb_build_object('category', cat.code, 'category_name', cat.name_zh, 'case_ids', to_jsonb(k.case_ids),
                              'metres', %(metres)s, 'days', %(days)s)
      FROM clusters k
      JOIN incidents_category cat ON cat.id = k.category_id
      LEFT JOIN grids_grid g ON g.id = k.grid_id
    RETURNING 1
)
SELECT (SELECT count(*) FROM written), 0, 0
"""

# Open cases that no active grid covers: grids_smallest_covering (the grids layer's one rule for who
# answers for a point, grids migration 0003) finds nothing for them, so nobody is bound to act. Cases outside every district carry a blank
# district code and are audited in the whole-tree run's '' chunk. The measure is how many days the case
# has been waiting at %(until)s.
DEAD_CORNER_CASE = """
WITH lost AS (
    SELECT c.id, c.location, c.reported_at, c.status, c.address, cat.code AS category, cat.name_zh
      FROM incidents_case c JOIN incidents_category cat ON cat.id = c.category_id
     WHERE c.district_code = %(district)s
       AND c.status = ANY (%(open_statuses)s)
       AND c.reported_at < %(until)s
       AND NOT EXISTS (SELECT 1 FROM grids_smallest_covering(c.location))
), written AS (
    INSERT INTO audits_finding (run_id, kind, geometry, measure, unit, grid_id, grid_code, grid_name,
                                other_grid_id, other_grid_code, case_id, point_id, estate_id, district_code, detail)
    SELECT %(run)s, 'dead_corner_case', location,
           round((extract(epoch FROM %(until)s - reported_at) / 86400)::numeric, 1), 'days',
           NULL, '', '', NULL, '', id, NULL, NULL, %(district)s,
           jsonb_build_object('case_id', id, 'category', category, 'category_name', name_zh, 'status', status,
                              'address', address)
      FROM lost
    RETURNING 1
)
SELECT (SELECT count(*) FROM written), 0, 0
"""

# --- Kinds over the inspections and estates layers ---------------------------------------------------

# Inspection points that nobody owns: in no active micro-grid (ST_Covers through the boundary index),
# or with no responsible leader, or with no partner department. A point belongs to the district of the
# grid that answers for it (grids_smallest_covering, the grids layer's rule); points outside every grid
# go to the whole-tree run's '' chunk. The measure counts what is missing (1 to 3).
UNOWNED_POINT = """
WITH located AS (
    SELECT p.id, p.name, p.code, p.location, p.responsible_leader_id, p.partner_department_id,
           g.id AS grid_id, coalesce(g.code, '') AS grid_code, coalesce(g.name, '') AS grid_name,
           coalesce(g.district_code, '') AS district_code
      FROM inspections_inspectionpoint p
      LEFT JOIN LATERAL grids_smallest_covering(p.location) AS g ON true
     WHERE p.is_active
), missing AS (
    SELECT located.*,
           array_remove(ARRAY[
               CASE WHEN NOT EXISTS (SELECT 1 FROM grids_grid m
                                      WHERE m.level = 5 AND m.is_active AND ST_Covers(m.boundary, location))
                    THEN 'micro_grid' END,
               CASE WHEN responsible_leader_id IS NULL THEN 'leader' END,
               CASE WHEN partner_department_id IS NULL THEN 'department' END], NULL) AS what
      FROM located WHERE district_code = %(district)s
), written AS (
    INSERT INTO audits_finding (run_id, kind, geometry, measure, unit, grid_id, grid_code, grid_name,
                                other_grid_id, other_grid_code, case_id, point_id, estate_id, district_code, detail)
    SELECT %(run)s, 'unowned_point', location, cardinality(what), 'count', grid_id, grid_code, grid_name,
           NULL, '', NULL, id, NULL, district_code,
           jsonb_build_object('point_name', name, 'point_code', code, 'missing', to_jsonb(what))
      FROM missing WHERE cardinality(what) > 0
    RETURNING 1
)
SELECT (SELECT count(*) FROM written), 0, 0
"""

# Inspection points nobody checked in at, and unit grids (the officer level) nobody patrolled, in the
# %(stale_days)s days before %(until)s. The measure is the days since the last visit or patrol, or,
# for one never visited, since the point or grid was created (detail "never": true).
STALE = """
WITH points AS (
    SELECT p.id, p.name, p.location, p.created_at, g.id AS grid_id, coalesce(g.code, '') AS grid_code,
           coalesce(g.name, '') AS grid_name, coalesce(g.district_code, '') AS district_code,
           (SELECT max(ci.checked_at) FROM inspections_checkin ci
             WHERE ci.point_id = p.id AND ci.checked_at < %(until)s) AS last_seen
      FROM inspections_inspectionpoint p
      LEFT JOIN LATERAL grids_smallest_covering(p.location) AS g ON true
     WHERE p.is_active AND p.created_at < %(until)s
), grids AS (
    SELECT g.id, g.code, g.name, g.boundary, g.created_at, g.district_code,
           (SELECT max(pa.started_at) FROM inspections_patrol pa
             WHERE pa.grid_id = g.id AND pa.started_at < %(until)s) AS last_seen
      FROM grids_grid g
     WHERE g.is_active AND g.level = %(officer_level)s AND g.district_code = %(district)s
), stale AS (
    SELECT 'point' AS what, id AS point_id, grid_id, grid_code, grid_name, location AS geom, created_at,
           last_seen, district_code, name AS point_name
      FROM points WHERE district_code = %(district)s
    UNION ALL
    SELECT 'grid', NULL, id, code, name, boundary, created_at, last_seen, district_code, ''
      FROM grids
), late AS (
    SELECT stale.*, extract(epoch FROM %(until)s - coalesce(last_seen, created_at)) / 86400 AS days
      FROM stale
     WHERE coalesce(last_seen, created_at) < %(until)s - %(stale_days)s * interval '1 day'
), written AS (
    INSERT INTO audits_finding (run_id, kind, geometry, measure, unit, grid_id, grid_code, grid_name,
                                other_grid_id, other_grid_code, case_id, point_id, estate_id, district_code, detail)
    SELECT %(run)s, 'stale', geom, round(days::numeric, 1), 'days', grid_id, grid_code, grid_name, NULL, '',
           NULL, point_id, NULL, district_code,
           jsonb_build_object('what', what, 'never', last_seen IS NULL, 'last_seen', last_seen,
                              'point_name', point_name)
      FROM late
    RETURNING 1
)
SELECT (SELECT count(*) FROM written), 0, 0
"""

# Estates no micro-grid covers (the part outside the union of the active micro-grids meeting the
# estate, measured in m²; parts under %(min_area)s m² are slivers) and estates under renovation (a
# project approved or under construction includes them) whose community has no responsible leader
# in force on %(on)s (measure: 1, unit count). District: the estate's community's.
UNCOVERED_ESTATE = """
WITH estates AS (
    SELECT e.id, e.name, e.boundary, c.id AS community_id, c.code AS community_code, c.name AS community_name,
           c.district_code
      FROM estates_estate e JOIN grids_grid c ON c.id = e.community_id
     WHERE c.district_code = %(district)s
), uncovered AS (
    SELECT e.*, part.geom
      FROM estates e,
           LATERAL ST_Dump(ST_Difference(e.boundary,
               coalesce((SELECT ST_Union(m.boundary) FROM grids_grid m
                          WHERE m.level = 5 AND m.is_active AND m.boundary && e.boundary
                            AND ST_Intersects(m.boundary, e.boundary)),
                        ST_SetSRID('POLYGON EMPTY'::geometry, 4326)), %(snap)s)) AS part
     WHERE ST_Dimension(part.geom) = 2
), measured AS (
    SELECT uncovered.*, ST_Area(ST_Segmentize(geom, %(segment)s)::geography) AS area FROM uncovered
), leaderless AS (
    SELECT e.* FROM estates e
     WHERE EXISTS (SELECT 1 FROM estates_renovationproject_estates pe
                     JOIN estates_renovationproject p ON p.id = pe.renovationproject_id
                    WHERE pe.estate_id = e.id AND p.status IN ('approved', 'under_construction'))
       AND NOT EXISTS (SELECT 1 FROM grids_duty d
                        WHERE d.grid_id = e.community_id AND d.kind = 'leader'
                          AND d.starts_on <= %(on)s AND (d.ends_on IS NULL OR d.ends_on >= %(on)s))
), written AS (
    INSERT INTO audits_finding (run_id, kind, geometry, measure, unit, grid_id, grid_code, grid_name,
                                other_grid_id, other_grid_code, case_id, point_id, estate_id, district_code, detail)
    SELECT %(run)s, 'uncovered_estate', geom, area, 'm2', community_id, community_code, community_name,
           NULL::bigint, '', NULL::bigint, NULL::bigint, id, district_code, jsonb_build_object('estate_name', name, 'reason', 'no_micro_grid')
      FROM measured WHERE area >= %(min_area)s
    UNION ALL
    SELECT %(run)s, 'uncovered_estate', boundary, 1, 'count', community_id, community_code, community_name,
           NULL::bigint, '', NULL::bigint, NULL::bigint, id, district_code, jsonb_build_object('estate_name', name, 'reason', 'no_leader')
      FROM leaderless
    RETURNING 1
)
SELECT (SELECT count(*) FROM written),
       count(*) FILTER (WHERE area < %(min_area)s),
       coalesce(sum(area) FILTER (WHERE area < %(min_area)s), 0)
  FROM measured
"""

# The district codes present in the tree (the chunks of a whole-tree run).
DISTRICTS = """
SELECT DISTINCT district_code FROM grids_grid WHERE is_active ORDER BY district_code
"""

# The findings of a run as one GeoJSON FeatureCollection, built in the database (json_agg) so that
# a city-wide run's thousands of polygons are not turned into Python objects one by one.
# %(kind)s and %(bbox)s (an EPSG:4326 envelope as WKT) are optional filters (NULL: no filter).
FINDINGS_GEOJSON = """
SELECT json_build_object(
    'type', 'FeatureCollection',
    'features', coalesce(json_agg(json_build_object(
        'type', 'Feature',
        'id', f.id,
        'geometry', ST_AsGeoJSON(f.geometry, 7)::json,
        'properties', json_build_object(
            'kind', f.kind, 'measure', round(f.measure::numeric, 2), 'unit', f.unit,
            'grid_code', f.grid_code, 'grid_name', f.grid_name, 'other_grid_code', f.other_grid_code,
            'case_id', f.case_id, 'point_id', f.point_id, 'estate_id', f.estate_id, 'district_code', f.district_code, 'detail', f.detail)
    ) ORDER BY f.kind, f.grid_code, f.other_grid_code, f.id), '[]'::json))
  FROM audits_finding f
 WHERE f.run_id = %(run)s
   AND (%(kind)s::text IS NULL OR f.kind = %(kind)s::text)
   AND (%(bbox)s::text IS NULL OR f.geometry && ST_GeomFromText(%(bbox)s::text, 4326))
"""

# --- Assessment (考核), layers/audits/assessment.py -------------------------------------------------

# Per unit (grid at a level, department or leader), from the incidents app's cases and their trail:
# the cases received in [%(start)s, %(end)s) (duplicates excluded: a "me too" is not a new case),
# with each stage read from the trail as it stood at %(cutoff)s (the period's end, or now while the
# period runs). Definitions:
#   received   cases reported in the period            registered  those with a 'register' step
#   due        registered and closed, or past the deadline to close (final_due_at) at the cutoff
#   closed     a 'close' step                           on_time     closed no later than final_due_at
#   dispatched a 'dispatch' step                        returned    a return step (wrong department):
#                                                                   'return', or 'approve_return' since
#                                                                   returns need the dispatcher's approval
#   voided     an 'approve_void' step (作废): counted as voided, never due, closed or overdue
#   handled    a 'handle' step                          reworked    a 'fail' step (verification failed)
#   overdue    registered, past final_due_at at the cutoff, and not closed by then or closed late
#   deduction  points for each escalation rung climbed in the period, %(deductions)s[rung]
# Rates: register = registered / received, closure = closed / due, on-time = on_time / due (so an
# open overdue case counts against it), rework = reworked / handled, accurate dispatch =
# (dispatched - returned) / dispatched. The score is 100 × the weighted rates (rework as 1 - rate; a
# rate without a denominator counts as 1) minus the deductions; units with fewer than %(min_sample)s
# cases are listed, not ranked. The unit key: %(unit)s is 'grid' (the case's grid's ancestor whose
# code has %(code_lens)s digits: one length, or several for the units of several levels at once, each
# ranked among its own level, with the trail read once for all), 'department' or 'leader'.
ASSESSMENT = """
WITH scope AS (
    SELECT c.id, c.final_due_at, c.grid_id, c.department_id, c.leader_id
      FROM incidents_case c
     WHERE c.reported_at >= %(start)s AND c.reported_at < %(end)s AND c.reported_at < %(cutoff)s
       AND c.duplicate_of_id IS NULL AND c.status <> 'duplicate'
       AND (%(district)s::text IS NULL OR c.district_code = %(district)s::text)
), steps AS (
    SELECT t.case_id,
           bool_or(t.action = 'register') AS registered,
           bool_or(t.action = 'dispatch') AS dispatched,
           bool_or(t.action IN ('return', 'approve_return')) AS returned,
           bool_or(t.action = 'approve_void') AS voided,
           bool_or(t.action = 'handle') AS handled,
           bool_or(t.action = 'fail') AS reworked,
           min(t.at) FILTER (WHERE t.action = 'close') AS closed_at,
           coalesce(sum((%(deductions)s::float8[])[t.escalation_level])
                    FILTER (WHERE t.action = 'escalate' AND t.at >= %(start)s), 0) AS deduction
      FROM incidents_trailentry t JOIN scope s ON s.id = t.case_id
     WHERE t.at < %(cutoff)s
     GROUP BY t.case_id
), facts AS (
    SELECT s.id, s.final_due_at,
           CASE %(unit)s WHEN 'grid' THEN u.id WHEN 'department' THEN s.department_id ELSE s.leader_id END
               AS unit_id,
           coalesce(st.registered, false) AS registered,
           coalesce(st.dispatched, false) AS dispatched,
           coalesce(st.returned, false) AS returned,
           coalesce(st.handled, false) AS handled,
           coalesce(st.reworked, false) AS reworked,
           coalesce(st.voided, false) AS voided,
           st.closed_at IS NOT NULL AS closed,
           st.closed_at IS NOT NULL AND st.closed_at <= s.final_due_at AS on_time,
           coalesce(st.registered, false) AND NOT coalesce(st.voided, false) AND s.final_due_at <= %(cutoff)s
               AND (st.closed_at IS NULL OR st.closed_at > s.final_due_at) AS overdue,
           coalesce(st.deduction, 0) AS deduction
      FROM scope s
      LEFT JOIN steps st ON st.case_id = s.id
      LEFT JOIN grids_grid g ON %(unit)s = 'grid' AND g.id = s.grid_id
      LEFT JOIN LATERAL unnest(%(code_lens)s::int[]) AS lens(code_len)
             ON %(unit)s = 'grid' AND length(g.code) >= lens.code_len
      LEFT JOIN grids_grid u ON u.code = left(g.code, lens.code_len)
), per_unit AS (
    SELECT unit_id,
           count(*) AS received,
           count(*) FILTER (WHERE registered) AS registered,
           count(*) FILTER (WHERE registered AND NOT voided AND (closed OR final_due_at <= %(cutoff)s)) AS due,
           count(*) FILTER (WHERE voided) AS voided,
           count(*) FILTER (WHERE closed) AS closed,
           count(*) FILTER (WHERE on_time) AS on_time,
           count(*) FILTER (WHERE dispatched) AS dispatched,
           count(*) FILTER (WHERE dispatched AND returned) AS returned,
           count(*) FILTER (WHERE handled) AS handled,
           count(*) FILTER (WHERE handled AND reworked) AS reworked,
           count(*) FILTER (WHERE overdue) AS overdue,
           sum(deduction) AS deductions,
           coalesce(array_agg(id ORDER BY final_due_at, id) FILTER (WHERE overdue), '{}') AS overdue_case_ids
      FROM facts WHERE unit_id IS NOT NULL
     GROUP BY unit_id
), rated AS (
    SELECT per_unit.*,
           registered::float8 / nullif(received, 0) AS register_rate,
           closed::float8 / nullif(due, 0) AS closure_rate,
           on_time::float8 / nullif(due, 0) AS on_time_rate,
           reworked::float8 / nullif(handled, 0) AS rework_rate,
           (dispatched - returned)::float8 / nullif(dispatched, 0) AS accurate_dispatch_rate,
           received >= %(min_sample)s AS ranked
      FROM per_unit
), scored AS (
    SELECT rated.*,
           round((100 * (%(w_closure)s * coalesce(closure_rate, 1) + %(w_on_time)s * coalesce(on_time_rate, 1)
                         + %(w_register)s * coalesce(register_rate, 1)
                         + %(w_dispatch)s * coalesce(accurate_dispatch_rate, 1)
                         + %(w_rework)s * (1 - coalesce(rework_rate, 0))) - deductions)::numeric, 2)::float8
               AS score
      FROM rated
)
SELECT scored.unit_id,
       CASE %(unit)s WHEN 'grid' THEN ug.code WHEN 'department' THEN ud.code ELSE up.id::text END AS unit_code,
       CASE %(unit)s WHEN 'grid' THEN ug.name WHEN 'department' THEN ud.name ELSE up.name END AS unit_name,
       received, registered, due, voided, closed, on_time, dispatched, returned, handled, reworked, overdue,
       deductions, register_rate, closure_rate, on_time_rate, rework_rate, accurate_dispatch_rate, score, ranked,
       CASE WHEN ranked THEN rank() OVER (PARTITION BY ranked, length(ug.code) ORDER BY score DESC) END AS rank,
       overdue_case_ids
  FROM scored
  LEFT JOIN grids_grid ug ON %(unit)s = 'grid' AND ug.id = scored.unit_id
  LEFT JOIN grids_department ud ON %(unit)s = 'department' AND ud.id = scored.unit_id
  LEFT JOIN grids_person up ON %(unit)s = 'leader' AND up.id = scored.unit_id
 ORDER BY ranked DESC, rank, received DESC, unit_code
"""

# The leader's dashboard's rates kept per grid and period (models.RatePeriod, GridRate), refreshed by
# the queue (tasks.refresh_dashboard_rates): ASSESSMENT itself, for the whole city (%(district)s NULL)
# and every level the dashboard shows at once (%(code_lens)s), so the kept figures are the live
# statement's by construction; the statement is pasted in as a constant (no input goes into the text).
# One statement: the period's marker (%(period)s, as of %(cutoff)s, complete once the cutoff reached
# the period's end %(end)s) and its rows are written together, and rows of grids that no longer have
# a case in the period are removed, so a reader sees the old summary or the new one, never a mix.
ASSESSMENT_SUMMARY = (
    """
WITH assessed AS MATERIALIZED (
    SELECT a.unit_id, a.received, a.due, a.closed, a.on_time, a.overdue, a.on_time_rate, a.closure_rate
      FROM ("""  # noqa: S608 (module constants joined, no input)
    + ASSESSMENT
    + """) AS a
     WHERE a.unit_id IS NOT NULL
), marked AS (
    INSERT INTO audits_rateperiod (period, cutoff, complete, refreshed_at)
    VALUES (%(period)s, %(cutoff)s, %(cutoff)s >= %(end)s, %(refreshed_at)s)
    ON CONFLICT (period) DO UPDATE
       SET cutoff = EXCLUDED.cutoff, complete = EXCLUDED.complete, refreshed_at = EXCLUDED.refreshed_at
    RETURNING 1
), gone AS (
    DELETE FROM audits_gridrate r
     WHERE r.period = %(period)s AND NOT EXISTS (SELECT 1 FROM assessed a WHERE a.unit_id = r.grid_id)
    RETURNING 1
), written AS (
    INSERT INTO audits_gridrate (period, grid_id, received, due, closed, on_time, overdue, on_time_rate, closure_rate)
    SELECT %(period)s, unit_id, received, due, closed, on_time, overdue, on_time_rate, closure_rate FROM assessed
    ON CONFLICT (period, grid_id) DO UPDATE
       SET received = EXCLUDED.received, due = EXCLUDED.due, closed = EXCLUDED.closed, on_time = EXCLUDED.on_time,
           overdue = EXCLUDED.overdue, on_time_rate = EXCLUDED.on_time_rate, closure_rate = EXCLUDED.closure_rate
    RETURNING 1
)
SELECT (SELECT count(*) FROM written), (SELECT count(*) FROM gone), (SELECT count(*) FROM marked)
"""
)
