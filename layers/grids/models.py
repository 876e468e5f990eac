"""The grid tree (网格), the departments and people bound to it, and their duties.

Grid governance cuts a city into a tree of areas that practitioners all call grids: district (区/县)
> street or town (街道/镇) > community or village (社区/村) > unit grid (网格) > micro-grid
(微网格: one building or 10-20 households). Every node has a polygon and a hierarchical code in
which a child's code starts with its parent's: the district's code is its 6-digit administrative
code (GB/T 2260), a street adds 3 digits, a community 3, a grid 3 (the 15-digit unit-grid code of
DB11/T 2157-2023) and a micro-grid 3 more. A prefecture-level city (市) may sit above its districts;
its code ends in "00" and its districts share its first four digits, as in GB/T 2260.

Children should tile their parent: a gap is a "dead corner" (死角) that nobody answers for, an
overlap gives two owners so that nobody acts. The tree's code rule is enforced three times over:
`Grid.clean()` for readable messages, a CHECK constraint for the length by level, and a trigger
(migration 0002) for the parent-prefix rule, which bulk writes cannot skip.

People and departments are bound to grids by duties with a start and an end date, so that a change
of officer keeps the history: the responsible leader (包片/包保领导), the grid officer (网格员) who
patrols and reports, the partner department (包保部门) and the task group (攻坚组).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.exceptions import ValidationError
from django.db.models import F, Q
from django.utils import timezone

from common.text import is_ascii_number
from layers.grids.querysets import DutyQuerySet, GridQuerySet


def name_search_index(index_name: str) -> GinIndex:
    """The trigram index on `name` that place search (layers/grids/places.py) uses: similarity and LIKE."""
    return GinIndex(OpClass(F("name"), name="gin_trgm_ops"), name=index_name)


class Level(models.IntegerChoices):
    CITY = 0, "市 city"
    DISTRICT = 1, "区县 district"
    STREET = 2, "街道/镇 street"
    COMMUNITY = 3, "社区/村 community"
    GRID = 4, "网格 grid"
    MICROGRID = 5, "微网格 micro-grid"

    @classmethod
    def from_name(cls, name: str) -> Level:
        """'district', 'micro-grid', 'microgrid', '4' ... → Level; raises ValueError."""
        key = name.strip().lower().replace("-", "").replace("_", "")
        for level in cls:
            if key in {level.name.lower(), str(level.value)}:
                return level
        names = ", ".join(level.name.lower() for level in cls)
        raise ValueError(f"unknown level {name!r}; use one of {names}")


CODE_LENGTH = {
    Level.CITY: 6,
    Level.DISTRICT: 6,
    Level.STREET: 9,
    Level.COMMUNITY: 12,
    Level.GRID: 15,
    Level.MICROGRID: 18,
}


def code_problem(level: int, code: str, parent: Grid | None) -> str | None:
    """Why `code` is not a valid code for a grid of `level` under `parent`, or None if it is."""
    level = Level(level)
    want = CODE_LENGTH[level]
    if not is_ascii_number(code) or len(code) != want:
        return f"code {code!r}: a {level.name.lower()} code has exactly {want} digits"
    if level == Level.CITY:
        if not code.endswith("00"):
            return f"code {code!r}: a city's administrative code ends in 00"
        if parent is not None:
            return f"code {code!r}: a city has no parent"
        return None
    if level == Level.DISTRICT:
        if parent is None:
            return None
        if parent.level != Level.CITY or parent.code[:4] != code[:4]:
            return f"code {code!r}: a district's parent must be the city {code[:4]}00"
        return None
    if parent is None:
        return f"code {code!r}: a {level.name.lower()} needs a parent"
    if parent.level != level - 1:
        return (
            f"code {code!r}: a {level.name.lower()}'s parent must be a "
            f"{Level(level - 1).name.lower()}, not a {Level(parent.level).name.lower()}"
        )
    if not code.startswith(parent.code):
        return f"code {code!r} does not start with its parent's code {parent.code!r}"
    return None


class Grid(models.Model):
    """One node of the grid tree, from city down to micro-grid."""

    code = models.CharField(max_length=18, unique=True, help_text="hierarchical code; see module docs")
    name = models.CharField(max_length=100)
    level = models.PositiveSmallIntegerField(choices=Level.choices, db_index=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    # The 6-digit district code, stored so that tables can be distributed or partitioned by district.
    district_code = models.CharField(max_length=6, db_index=True, editable=False)
    boundary = models.MultiPolygonField(srid=4326)
    households = models.PositiveIntegerField(null=True, blank=True)
    population = models.PositiveIntegerField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    # Bumped whenever the boundary is redrawn, so a case can record which drawing assigned it.
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = GridQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                name="grid_code_length_by_level",
                condition=(
                    Q(level=Level.CITY, code__regex=r"^[0-9]{4}00$")
                    | Q(level=Level.DISTRICT, code__regex=r"^[0-9]{6}$")
                    | Q(level=Level.STREET, code__regex=r"^[0-9]{9}$")
                    | Q(level=Level.COMMUNITY, code__regex=r"^[0-9]{12}$")
                    | Q(level=Level.GRID, code__regex=r"^[0-9]{15}$")
                    | Q(level=Level.MICROGRID, code__regex=r"^[0-9]{18}$")
                ),
            ),
        ]
        indexes = [
            models.Index(fields=["level", "code"], name="grid_level_code"),
            name_search_index("grid_name_trgm"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def clean(self) -> None:
        if self.level is None:
            return  # the form already says that the level is required
        problem = code_problem(self.level, self.code or "", self.parent)
        if problem:
            raise ValidationError({"code": problem})
        self.district_code = self.code[:6]

    @property
    def level_name(self) -> str:
        return Level(self.level).name.lower()

    def ancestor_codes(self) -> list[str]:
        """Codes from the district down to this grid (the city is linked by parent, not prefix)."""
        return [self.code[:n] for n in range(6, len(self.code) + 1, 3)]


class Department(models.Model):
    """A department: a functional bureau that fixes problems, a dispatch office, or a task group."""

    class Kind(models.TextChoices):
        FUNCTIONAL = "functional", "职能部门 functional department"
        DISPATCH_OFFICE = "dispatch_office", "指挥调度中心 dispatch office"
        TASK_GROUP = "task_group", "攻坚组 task group"

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=100)
    name_en = models.CharField(max_length=100, blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.FUNCTIONAL)
    district = models.ForeignKey(
        Grid,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="departments",
        limit_choices_to={"level": Level.DISTRICT},
    )
    # Where the department acts; none means anywhere in its district (or the whole city).
    jurisdiction = models.MultiPolygonField(srid=4326, null=True, blank=True)
    phone = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Person(models.Model):
    """Someone who holds duties: a leader, an officer, a department's handler."""

    name = models.CharField(max_length=50)
    phone = models.CharField(max_length=32, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="person"
    )
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.SET_NULL, related_name="staff")
    title = models.CharField(max_length=100, blank=True, help_text="post, e.g. 街道办副主任")

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = "people"

    def __str__(self) -> str:
        return self.name


class DutyKind(models.TextChoices):
    LEADER = "leader", "包片领导 responsible leader"
    OFFICER = "officer", "网格员 grid officer"
    PARTNER_DEPARTMENT = "partner_department", "包保部门 partner department"
    TASK_GROUP = "task_group", "攻坚组 task group"


PERSON_DUTIES = (DutyKind.LEADER, DutyKind.OFFICER)
DEPARTMENT_DUTIES = (DutyKind.PARTNER_DEPARTMENT, DutyKind.TASK_GROUP)


class Duty(models.Model):
    """A person's or department's duty for a grid, from `starts_on` to `ends_on` (open-ended if null)."""

    grid = models.ForeignKey(Grid, on_delete=models.CASCADE, related_name="duties")
    kind = models.CharField(max_length=20, choices=DutyKind.choices)
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT, related_name="duties")
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.PROTECT, related_name="duties")
    starts_on = models.DateField(default=datetime.date.today)
    ends_on = models.DateField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = DutyQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "duties"
        ordering = ["grid__code", "kind", "id"]
        constraints = [
            models.CheckConstraint(
                name="duty_holder_matches_kind",
                condition=(
                    Q(kind__in=PERSON_DUTIES, person__isnull=False, department__isnull=True)
                    | Q(kind__in=DEPARTMENT_DUTIES, department__isnull=False, person__isnull=True)
                ),
            ),
            models.CheckConstraint(
                name="duty_ends_after_start",
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
            ),
        ]
        indexes = [models.Index(fields=["grid", "kind"], name="duty_grid_kind")]

    def __str__(self) -> str:
        holder = self.person or self.department
        return f"{self.get_kind_display()} {holder} @ {self.grid.code}"

    def clean(self) -> None:
        if self.kind in PERSON_DUTIES and (self.person is None or self.department is not None):
            raise ValidationError({"person": "a leader or officer duty names a person, not a department"})
        if self.kind in DEPARTMENT_DUTIES and (self.department is None or self.person is not None):
            raise ValidationError({"department": "a partner-department or task-group duty names a department"})
        if self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": "a duty cannot end before it starts"})
