"""The map layer's named SQL statements, all in one place, all with bound parameters.

Map pages and desktop GIS ask for thousands of features at a time. Serialising them row by row in
Python costs ten times what PostgreSQL needs to build the same document, so the hot paths here build
their whole answer inside PostGIS: a GeoJSON FeatureCollection with json_agg, a vector tile with
ST_AsMVT. Each statement is a constant; values are bound as %(name)s parameters; the only
identifiers that vary (the case table of another app) are composed with the driver's sql.Identifier,
never pasted into the text.
"""

from django.db.backends.postgresql.psycopg_any import sql

# Grids of some levels in a bbox, as one GeoJSON FeatureCollection (text). `&&` (bounding boxes
# overlap) finds them through the GiST index on boundary; an exact ST_Intersects would only drop a
# few grids just off the edge of the screen, and costs a tenth of the whole statement at 5,000 grids.
# Who answers for a grid is not in here: a popup asks for it (GridDetailView) when it opens, because
# joining the duties of 5,000 grids doubled the time of this statement.
# LIMIT limit + 1 tells the client whether the answer was cut ("truncated") without a second count.
# The document is concatenated as text: ST_AsGeoJSON's output is already JSON, and casting it to json
# only to aggregate it made PostgreSQL parse two megabytes again (a quarter of the time). Every value
# that is not PostGIS output goes through to_json/json_build_object, which escape it. The result is
# UTF-8 bytes (convert_to), handed to the HTTP response as they are: no decoding and re-encoding.
GRIDS_BBOX_FEATURE_COLLECTION = """
SELECT convert_to('{"type":"FeatureCollection","numberReturned":' || count(*) FILTER (WHERE hit.n <= %(limit)s)
    || ',"truncated":' || (count(*) > %(limit)s)::text
    || ',"features":[' || COALESCE(string_agg(
        '{"type":"Feature","id":' || to_json(hit.code)::text
        || ',"geometry":' || ST_AsGeoJSON(hit.boundary, %(precision)s)
        || ',"properties":' || json_build_object('code', hit.code, 'name', hit.name, 'level', hit.level)::text
        || '}',
        ',' ORDER BY hit.code) FILTER (WHERE hit.n <= %(limit)s), '') || ']}', 'UTF8')
FROM (
    SELECT g.code, g.name, g.level, g.boundary, row_number() OVER (ORDER BY g.code) AS n
    FROM grids_grid g
    WHERE g.is_active
      AND g.level = ANY(%(levels)s)
      AND g.boundary && ST_MakeEnvelope(%(xmin)s, %(ymin)s, %(xmax)s, %(ymax)s, 4326)
      AND g.code LIKE %(prefix)s
      AND gridgis_in_scope(g.code, %(scope_patterns)s)  -- the reader's scope (common.scopes)
    ORDER BY g.code
    LIMIT %(limit)s + 1
) AS hit
"""

# The baseline the benchmark compares the endpoint with: the same features, straight from a cursor
# (no HTTP, no validation, no order, no limit).
GRIDS_BBOX_BASELINE = """
SELECT json_build_object('type', 'FeatureCollection', 'features', COALESCE(json_agg(json_build_object(
    'type', 'Feature', 'id', g.code, 'geometry', ST_AsGeoJSON(g.boundary, 6)::json,
    'properties', json_build_object('code', g.code, 'name', g.name, 'level', g.level))), '[]'::json))::text
FROM grids_grid g
WHERE g.is_active AND g.level = ANY(%(levels)s)
  AND g.boundary && ST_MakeEnvelope(%(xmin)s, %(ymin)s, %(xmax)s, %(ymax)s, 4326)
"""

# One vector tile of grid boundaries of one level (layer "grids"). The tile envelope is computed in
# Web Mercator (the tiles' CRS) and transformed once to 4326 for the index search, so the indexed
# column is never transformed in the WHERE clause; only the hits are.
GRID_TILE = """
WITH env AS (
    SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS merc,
           ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => 0.015625), 4326) AS wgs
),
features AS (
    SELECT g.code, g.name, g.level,
           ST_AsMVTGeom(ST_Transform(g.boundary, 3857), env.merc, 4096, 64, true) AS geom
    FROM grids_grid g, env
    WHERE g.is_active AND g.level = %(level)s AND g.boundary && env.wgs
      AND gridgis_in_scope(g.code, %(scope_patterns)s)  -- the reader's scope (common.scopes)
)
SELECT ST_AsMVT(features.*, 'grids', 4096, 'geom') FROM features WHERE geom IS NOT NULL
"""

# Case tiles at high zoom: each case in the tile as a point (layer "cases"). The case table belongs
# to the incidents app, so its identifiers are composed from the model's metadata (see
# maps.tiles.CaseSource). Cases that fall on the same tile pixel cell (16 of 4096 units) are merged
# into one feature with a count, so a busy street corner does not put thousands of points in a tile.
# Points within 64 units (1/64 of a tile) outside the tile are included too, as in the counts tile
# below, so that a symbol on a tile edge is drawn whole by both tiles instead of cut in half.
CASE_TILE_POINTS = sql.SQL("""
WITH env AS (
    SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS merc,
           ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => 0.015625), 4326) AS wgs
),
pts AS (
    SELECT c.{pk} AS id, c.{status} AS status,
           ST_SnapToGrid(ST_AsMVTGeom(ST_Transform(c.{geom}, 3857), env.merc, 4096, 64, true), 16) AS geom
    FROM {table} c, env
    WHERE c.{geom} && env.wgs AND {case_scope}
),
features AS (
    SELECT min(id) AS id, count(*)::int AS count,
           count(*) FILTER (WHERE status = ANY(%(open_statuses)s))::int AS open,
           CASE WHEN count(*) = 1 THEN min(status) ELSE '' END AS status,
           geom
    FROM pts WHERE geom IS NOT NULL
    GROUP BY geom
)
SELECT ST_AsMVT(features.*, 'cases', 4096, 'geom') FROM features
""")

# The {case_scope} of CASE_TILE_POINTS: every case (supervisors, dispatchers, batch jobs), or the cases
# of a reader's scope, with the parameters of the "case" rule (Scope.sql_params): in their grids'
# subtree, of their department, or reported by them (a NULL department or reporter lets nothing in).
# Constants composed with the case table's identifiers; values are bound parameters.
CASE_SCOPE_ALL = sql.SQL("TRUE")
CASE_SCOPE_FILTER = sql.SQL("""(
           EXISTS (SELECT 1 FROM grids_grid g
                   WHERE g.id = c.{grid} AND gridgis_in_scope(g.code, %(scope_patterns)s))
           OR c.{department} = %(scope_department)s
           OR c.{reporter} = %(scope_reporter)s)""")

# Case tiles at low zoom: one point per grid of the level the zoom calls for, at a point inside the
# grid, carrying the number of cases in the grid's subtree (layer "case_counts"). The counts come
# from maps_gridcasecount, refreshed by CASE_COUNTS_REFRESH, because counting millions of cases on
# every low-zoom tile cannot answer within 100 ms. They count every case of a grid, so they are
# shown for the grids of the reader's subtree only: a handler or a citizen, who sees some cases of
# many grids, gets no counts (their cases come as points from CASE_TILE_POINT_ZOOM, and in the API).
CASE_TILE_COUNTS = """
WITH env AS (
    SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS merc,
           ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => 0.015625), 4326) AS wgs
),
features AS (
    SELECT g.code, g.name, c.total, c.open,
           ST_AsMVTGeom(ST_Transform(c.anchor, 3857), env.merc, 4096, 64, true) AS geom
    FROM maps_gridcasecount c JOIN grids_grid g ON g.id = c.grid_id, env
    WHERE c.level = %(level)s AND c.anchor && env.wgs
      AND gridgis_in_scope(g.code, %(scope_patterns)s)  -- the reader's scope (common.scopes)
)
SELECT ST_AsMVT(features.*, 'case_counts', 4096, 'geom') FROM features WHERE geom IS NOT NULL
"""

# Rebuilds maps_gridcasecount in one pass: cases are counted once per assigned grid (an index-only
# scan of the case table's grid column), then rolled up to every ancestor by the code rule (a
# child's code starts with its parent's: the prefixes of 6, 9, 12 ... digits are looked up through
# the unique index on code), so each level's count is the sum over its subtree.
CASE_COUNTS_REFRESH = sql.SQL("""
WITH leaf AS (
    SELECT c.{grid} AS grid_id, count(*) AS total,
           count(*) FILTER (WHERE c.{status} = ANY(%(open_statuses)s)) AS open
    FROM {table} c
    WHERE c.{grid} IS NOT NULL
    GROUP BY c.{grid}
),
leaf_code AS (
    SELECT g.code, leaf.total, leaf.open FROM leaf JOIN grids_grid g ON g.id = leaf.grid_id
),
rolled AS (
    SELECT a.id AS grid_id, a.level, sum(l.total)::int AS total, sum(l.open)::int AS open
    FROM leaf_code l
    CROSS JOIN LATERAL generate_series(6, length(l.code), 3) AS prefix(n)
    JOIN grids_grid a ON a.code = left(l.code, prefix.n)
    WHERE a.is_active
    GROUP BY a.id, a.level
)
INSERT INTO maps_gridcasecount (grid_id, level, total, open, anchor, refreshed_at)
SELECT r.grid_id, r.level, r.total, r.open, ST_PointOnSurface(g.boundary), now()
FROM rolled r JOIN grids_grid g ON g.id = r.grid_id
""")

CASE_COUNTS_CLEAR = "DELETE FROM maps_gridcasecount"

# The heatmap's data: the counts of the grids of some levels whose anchor is in a bbox, as one
# GeoJSON FeatureCollection of points (UTF-8 bytes), built like GRIDS_BBOX_FEATURE_COLLECTION.
CASE_COUNTS_BBOX = """
SELECT convert_to('{"type":"FeatureCollection","numberReturned":' || count(*)
    || ',"features":[' || COALESCE(string_agg(
        '{"type":"Feature","id":' || to_json(g.code)::text
        || ',"geometry":' || ST_AsGeoJSON(c.anchor, 6)
        || ',"properties":' || json_build_object('code', g.code, 'name', g.name, 'total', c.total,
                                                 'open', c.open)::text
        || '}', ',' ORDER BY g.code), '') || ']}', 'UTF8')
FROM maps_gridcasecount c JOIN grids_grid g ON g.id = c.grid_id
WHERE c.level = ANY(%(levels)s)
  AND c.anchor && ST_MakeEnvelope(%(xmin)s, %(ymin)s, %(xmax)s, %(ymax)s, 4326)
  AND gridgis_in_scope(g.code, %(scope_patterns)s)  -- the reader's scope (common.scopes)
"""

# How many cases there are (the benchmark reports it beside the tile timings).
CASE_COUNT_TOTAL = sql.SQL("SELECT count(*) FROM {table}")
