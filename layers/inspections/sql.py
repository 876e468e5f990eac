"""Named SQL statements of the inspections layer (parameters only, never pasted strings)."""

# Patrol coverage per grid: the share of each grid's area within `radius` metres of any patrol track
# that started in [since, until). The tracks near a grid are collected and grown together by one
# geography buffer (metres, in PostGIS's best local projection); buffering the collection dissolves
# overlaps, so two officers on the same lane count once (and it is faster than a union of per-track
# buffers). The cover is intersected with the grid and measured as geography, segmentized first as
# common.dbfuncs.AreaM2 does, so that the grid's straight lon/lat edges are measured as stored.
# The grid's reach (the grid grown by the same radius) is computed once per grid in the CTE: written
# inline, the planner copies the buffer expression into the index condition and the per-track
# filter and computes it again for every candidate track. Candidates are found with the track
# column's spatial index against the reach, and each is cut to the reach's bounding box before the
# buffer: every point of the grid within `radius` of a track is within `radius` of a part of the
# track inside that box, so the cover over the grid is the same, and the buffer (most of the cost)
# works on the local pieces only. At city scale (2,040 grids, 17,462 tracks) the two changes took the
# statement from 6.2 s to 4.7 s; covered areas moved by at most 19 m² in a grid (the buffer's noding).
PATROL_COVERAGE = """
WITH grids AS MATERIALIZED (
    SELECT g.id, g.code, g.name, g.level, g.boundary,
           ST_Buffer(g.boundary::geography, %(radius)s)::geometry AS reach
    FROM grids_grid AS g
    WHERE g.is_active AND g.level = %(level)s AND g.code LIKE %(code_prefix)s
      AND gridgis_in_scope(g.code, %(scope_patterns)s)  -- the reader's scope (common.scopes)
)
SELECT g.id, g.code, g.name, g.level,
       ST_Area(ST_Segmentize(g.boundary, %(segment)s)::geography) AS area_m2,
       COALESCE(ST_Area(ST_Segmentize(ST_Intersection(g.boundary, walked.cover), %(segment)s)::geography), 0)
           AS covered_m2,
       walked.patrols
FROM grids AS g
CROSS JOIN LATERAL (
    SELECT ST_Buffer(ST_Collect(ST_ClipByBox2D(p.track, g.reach))::geography, %(radius)s)::geometry AS cover,
           count(*) AS patrols
    FROM inspections_patrol AS p
    WHERE p.track IS NOT NULL
      AND p.started_at >= %(since)s AND p.started_at < %(until)s
      AND ST_Intersects(p.track, g.reach)
) AS walked
ORDER BY g.code
"""
