"""Units of measure, one list for the whole project: a model field offers the units it uses."""

from django.db import models


class Unit(models.TextChoices):
    METRE = "m", "米 m"
    SQUARE_METRE = "m2", "平方米 m²"
    HOUSEHOLD = "household", "户 households"
    SPACE = "space", "个车位 spaces"
    ITEM = "item", "个/处 items"
    COUNT = "count", "个 count"
    DAYS = "days", "天 days"

    @classmethod
    def choices_of(cls, units) -> list[tuple[str, str]]:
        """`choices` for a field that takes only `units`, in that order."""
        return [(unit.value, unit.label) for unit in units]
