"""manage.py import_estates PATH [--srs S] [--encoding E] [--layer L] [--name-field F] [--code-field F]
[--community-field F] [--allow-rejects]"""

from layers.estates.importing import import_estates
from layers.grids.import_command import ImportCommand


class Command(ImportCommand):
    help = (
        "Import estates (小区) from GeoJSON, Shapefile or GeoPackage polygons: name, code, community "
        "(code, or found from the outline), households, buildings, year_built, management "
        "(property/self/none or 物业/自管/无), party_org, owners_committee. All or nothing."
    )
    importer = staticmethod(import_estates)

    def add_import_arguments(self, parser):
        parser.add_argument("--name-field", help="attribute holding the name (default: name, xqmc, mc)")
        parser.add_argument("--code-field", help="attribute holding the estate code (default: code, xqbm)")
        parser.add_argument("--community-field", help="attribute holding the community code (default: community)")

    def import_options(self, opts):
        return {
            "name_field": opts["name_field"],
            "code_field": opts["code_field"],
            "community_field": opts["community_field"],
        }
