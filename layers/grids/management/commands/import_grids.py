"""manage.py import_grids PATH --level LEVEL [--parent CODE] [--code-field F] [--name-field F] [--srs S]"""

from django.core.management.base import CommandError

from layers.grids.import_command import ImportCommand
from layers.grids.importing import import_grids
from layers.grids.models import Grid, Level


class Command(ImportCommand):
    help = (
        "Import grid boundaries from GeoJSON (geometry, Feature or FeatureCollection), Shapefile or "
        "GeoPackage. Same codes update in place; all or nothing."
    )
    importer = staticmethod(import_grids)
    reads_layers = False

    def add_import_arguments(self, parser):
        parser.add_argument("--level", required=True, help="city, district, street, community, grid or microgrid")
        parser.add_argument("--parent", help="parent grid code (default: the code less its last 3 digits)")
        parser.add_argument("--code-field", help="attribute holding the code (default: code or adcode)")
        parser.add_argument("--name-field", help="attribute holding the name (default: name)")
        parser.add_argument("--name", help="name for every feature (for single-boundary files)")

    def import_options(self, opts):
        try:
            level = Level.from_name(opts["level"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        return {
            "level": level,
            "parent_code": opts["parent"],
            "code_field": opts["code_field"],
            "name_field": opts["name_field"],
            "name": opts["name"],
        }

    def run_import(self, **arguments):
        try:
            return super().run_import(**arguments)
        except Grid.DoesNotExist as exc:
            raise CommandError(f"parent grid {arguments['parent_code']!r} does not exist") from exc
