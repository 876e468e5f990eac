"""Factories for the estates and inspections tests: estates, projects, points, patrols.

Geometries are axis-aligned boxes and straight lines in EPSG:4326 near Luzhou, as in tests/factories.py.
"""

from __future__ import annotations

import datetime
import itertools

from django.contrib.auth import get_user_model

from layers.estates import services as estate_services
from layers.estates.models import Batch, Estate
from layers.grids.models import Grid
from tests.factories import box

_sequence = itertools.count(1)


def make_user(username: str | None = None):
    return get_user_model().objects.create_user(username=username or f"user{next(_sequence)}", password="x-unused")


def make_estate(community: Grid, bbox, **fields) -> Estate:
    number = next(_sequence)
    fields.setdefault("name", f"estate {number}")
    fields.setdefault("buildings", 4)
    fields.setdefault("households", 120)
    return estate_services.create_estate(community=community, boundary=box(*bbox), **fields)


def make_project(bbox, starts_on: datetime.date | None = None, ends_on: datetime.date | None = None,
                 batch: str = Batch.IMPLEMENT, by=None, **fields):
    number = next(_sequence)
    fields.setdefault("name", f"project {number}")
    return estate_services.create_project(by=by, footprint=box(*bbox), batch=batch, starts_on=starts_on,
                                          ends_on=ends_on, **fields)
