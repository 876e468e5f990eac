"""manage.py import_footprints PATH --batch implement|plan|reserve [--user U] [--srs S] ..."""

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from layers.estates.importing import import_footprints
from layers.estates.models import Batch
from layers.grids.import_command import ImportCommand


class Command(ImportCommand):
    help = (
        "Import renovation project footprints from GeoJSON, Shapefile or GeoPackage polygons, keyed by "
        "name, with optional starts_on/ends_on/budget attributes; each is linked to the estates it "
        "covers. All or nothing."
    )
    importer = staticmethod(import_footprints)

    def add_import_arguments(self, parser):
        parser.add_argument("--batch", required=True, choices=Batch.values)
        parser.add_argument("--user", help="username recorded as the projects' creator")
        parser.add_argument("--name-field", help="attribute holding the project name (default: name)")

    def import_options(self, opts):
        user = None
        if opts["user"]:
            user = get_user_model().objects.filter(username=opts["user"]).first()
            if user is None:
                raise CommandError(f"no user {opts['user']!r}")
        return {"batch": opts["batch"], "by": user, "name_field": opts["name_field"]}
