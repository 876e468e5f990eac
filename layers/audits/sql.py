"""The audits' SQL: one named statement per kind of dead corner, parameters only.

Every statement audits one district's share of the tree (`%(district)s`, matched against the
indexed `grids_grid.district_code`), writes its findings into audits_finding for run `%(run)s` in
the same statement (a data-modifying CTE, so that nothing crosses to Python row by row) and returns
one row: (findings written, slivers counted, sliver area in m²). Areas are measured on the
spheroid through `::geography`, never in degrees, after segmentizing to `%(segment)s` degrees so that
the arcs follow the stored straight edges (common.dbfuncs.AreaM2 explains why); `%(min_area)s` is the
size in m² under which a
part is a sliver (digitising noise) that is counted, not listed. The overlay functions work on a
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
                                other_grid_id, other_grid_code, district_code, detail)
    SELECT %(run)s, 'gap', geom, area, 'm2', id, code, name, NULL, '', district_code,
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
                                other_grid_id, other_grid_code, district_code, detail)
    SELECT %(run)s, 'overlap', geom, area, 'm2', a_id, a_code, a_name, b_id, b_code, district_code,
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
                                other_grid_id, other_grid_code, district_code, detail)
    SELECT %(run)s, 'outside_parent', geom, area, 'm2', id, code, name, parent_id, parent_code,
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
                                other_grid_id, other_grid_code, district_code, detail)
    SELECT %(run)s, 'orphan', boundary, cardinality(duties), 'count', id, code, name, NULL, '',
           district_code, jsonb_build_object('missing', to_jsonb(duties))
      FROM missing WHERE cardinality(duties) > 0
    RETURNING 1
)
SELECT (SELECT count(*) FROM written), 0, 0
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
            'district_code', f.district_code, 'detail', f.detail)
    ) ORDER BY f.kind, f.grid_code, f.other_grid_code, f.id), '[]'::json))
  FROM audits_finding f
 WHERE f.run_id = %(run)s
   AND (%(kind)s::text IS NULL OR f.kind = %(kind)s::text)
   AND (%(bbox)s::text IS NULL OR f.geometry && ST_GeomFromText(%(bbox)s::text, 4326))
"""
