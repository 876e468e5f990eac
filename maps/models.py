"""What the map layer stores of its own: per-grid case counts for low-zoom tiles.

Everything else the maps show belongs to the layer apps; this table is a derived summary, rebuilt
from the case table in one statement (maps.tiles.refresh_case_counts), never edited by hand.
"""

from django.contrib.gis.db import models


class GridCaseCount(models.Model):
    """The number of cases in a grid's subtree, and where to draw that number on a small-scale map."""

    grid = models.OneToOneField("grids.Grid", on_delete=models.CASCADE, related_name="+")
    level = models.PositiveSmallIntegerField()
    total = models.PositiveIntegerField()
    open = models.PositiveIntegerField()
    # ST_PointOnSurface of the grid: inside the polygon even for a C-shaped grid, unlike a centroid.
    anchor = models.PointField(srid=4326)
    refreshed_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["level"], name="gridcasecount_level")]

    def __str__(self) -> str:
        return f"{self.grid_id}: {self.total} cases ({self.open} open)"
