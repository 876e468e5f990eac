"""Named SQL statements of the inspections layer (parameters only, never pasted strings)."""

# Patrol coverage per grid: the share of each grid's area within `radius` metres of any patrol track
# that started in [since, until). The tracks near a grid are collected and grown together by one
# geography buffer (metres, in PostGIS's best local projection); buffering the collection dissolves
# overlaps, so two officers on the same lane count once (and it is faster than a union of per-track
# buffers). The cover is intersected with the grid and measured as geography, segmentized first as
# common.dbfuncs.AreaM2 does, so that the grid's straight lon/lat edges are measured as stored. The
# candidate tracks are found with the track column's spatial index against the grid grown by the
# same radius.
PATROL_COVERAGE = """
SELECT g.id, g.code, g.name, g.level,
       ST_Area(ST_Segmentize(g.boundary, %(segment)s)::geography) AS area_m2,
       COALESCE(ST_Area(ST_Segmentize(ST_Intersection(g.boundary, walked.cover), %(segment)s)::geography), 0)
           AS covered_m2,
       walked.patrols
FROM grids_grid AS g
CROSS JOIN LATERAL (
    SELECT ST_Buffer(g.boundary::geography, %(radius)s)::geometry AS reach
) AS grown
CROSS JOIN LATERAL (
    SELECT ST_Buffer(ST_Collect(p.track)::geography, %(radius)s)::geometry AS cover, count(*) AS patrols
    FROM inspections_patrol AS p
    WHERE p.track IS NOT NULL
      AND p.started_at >= %(since)s AND p.started_at < %(until)s
      AND ST_Intersects(p.track, grown.reach)
) AS walked
WHERE g.is_active AND g.level = %(level)s AND g.code LIKE %(code_prefix)s
  -- the reader's scope: LIKE patterns of the grids they see, NULL for all (layers.accounts.roles)
  AND (%(scope_patterns)s::text[] IS NULL OR g.code LIKE ANY (%(scope_patterns)s::text[]))
ORDER BY g.code
"""
