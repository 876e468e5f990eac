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
# The grids are those of %(levels)s (one level for a screen, every level the dashboard shows for
# the kept summary below).
PATROL_COVERAGE = """
WITH grids AS MATERIALIZED (
    SELECT g.id, g.code, g.name, g.level, g.boundary,
           ST_Buffer(g.boundary::geography, %(radius)s)::geometry AS reach
    FROM grids_grid AS g
    WHERE g.is_active AND g.level = ANY (%(levels)s::int[]) AND g.code LIKE %(code_prefix)s
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

# The leader's dashboard's coverage kept per grid and week (models.CoverageWeek, GridCoverage),
# refreshed by the queue (tasks.refresh_patrol_coverage): PATROL_COVERAGE itself over every grid of
# %(levels)s in the city (no scope: the dashboard applies the reader's), pasted in as a constant (no
# input goes into the text), so the kept figures are the live statement's. One statement writes the
# week's marker (%(week)s, tracks of [%(since)s, %(until)s)) and its rows and removes rows of grids no
# longer there, so a reader sees the old summary or the new one, never a mix.
PATROL_COVERAGE_SUMMARY = (
    """
WITH measured AS MATERIALIZED (
    SELECT c.id, c.area_m2, c.covered_m2, c.patrols FROM ("""  # noqa: S608 (module constants joined, no input)
    + PATROL_COVERAGE
    + """) AS c
), marked AS (
    INSERT INTO inspections_coverageweek (week_start, since, until, refreshed_at)
    VALUES (%(week)s, %(since)s, %(until)s, %(refreshed_at)s)
    ON CONFLICT (week_start) DO UPDATE
       SET since = EXCLUDED.since, until = EXCLUDED.until, refreshed_at = EXCLUDED.refreshed_at
    RETURNING 1
), gone AS (
    DELETE FROM inspections_gridcoverage r
     WHERE r.week_start = %(week)s AND NOT EXISTS (SELECT 1 FROM measured m WHERE m.id = r.grid_id)
    RETURNING 1
), written AS (
    INSERT INTO inspections_gridcoverage (week_start, grid_id, area_m2, covered_m2, patrols)
    SELECT %(week)s, id, area_m2, covered_m2, patrols FROM measured
    ON CONFLICT (week_start, grid_id) DO UPDATE
       SET area_m2 = EXCLUDED.area_m2, covered_m2 = EXCLUDED.covered_m2, patrols = EXCLUDED.patrols
    RETURNING 1
)
SELECT (SELECT count(*) FROM written), (SELECT count(*) FROM gone), (SELECT count(*) FROM marked)
"""
)
