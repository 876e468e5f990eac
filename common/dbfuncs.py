"""Database functions for measurements that GeoDjango does not offer as such."""

from django.contrib.gis.db.models import GeometryField
from django.contrib.gis.db.models.functions import GeoFuncMixin
from django.db.models import BooleanField, DateTimeField, FloatField, Func

# Boundaries are stored in lon/lat with straight edges in degrees; a geography cast reads each edge
# as a great-circle arc, which on a 10 km edge strays about a metre from the stored line. Two
# neighbours, one with a vertex in the middle of the shared edge and one without, then measure
# thousands of m² apart although they tile exactly. Segmentizing to 1e-4° (about 10 m) first keeps
# arc and line within millimetres, so areas add up as the stored topology says.
SEGMENT_DEGREES = 0.0001


class AreaM2(GeoFuncMixin, Func):
    """Area in square metres on the WGS84 ellipsoid, consistent with the stored planar topology."""

    template = f"ST_Area(ST_Segmentize(%(expressions)s, {SEGMENT_DEGREES})::geography)"
    output_field = FloatField()
    arity = 1
    geom_param_pos = (0,)


class SimplifyPreserveTopology(GeoFuncMixin, Func):
    """ST_SimplifyPreserveTopology(geometry, tolerance in the geometry's units): a lighter outline for
    drawing on a map (never for measuring)."""

    function = "ST_SimplifyPreserveTopology"
    output_field = GeometryField(srid=4326)
    arity = 2
    geom_param_pos = (0,)


# --- Working time (common/migrations/0005_working_time.py; the rule on common.models.WorkSchedule) ---


class Due(Func):
    """gridgis_due(start, minutes, clock): `start` plus `minutes` of working time or clock time."""

    function = "gridgis_due"
    output_field = DateTimeField()
    arity = 3


class TimeLeftSeconds(Func):
    """gridgis_time_left_seconds(now, due, clock): seconds left in the limit's clock (negative when late)."""

    function = "gridgis_time_left_seconds"
    output_field = FloatField()
    arity = 3


class DeadlineOnCalendar(Func):
    """gridgis_deadline_on_calendar(start, due, clock): false when a working-time deadline crosses a year
    whose official schedule is not entered (counted Monday to Friday only)."""

    function = "gridgis_deadline_on_calendar"
    output_field = BooleanField()
    arity = 3
