"""manage.py import_estates PATH [--srs S] [--encoding E] [--layer L] [--name-field F] [--code-field F]
[--community-field F] [--allow-rejects]"""

from django.core.management.base import BaseCommand, CommandError

from common.crs import UnknownSRS, parse_srs
from common.importing import SourceError
from common.text import is_ascii_number
from layers.estates.importing import import_estates
from layers.grids.importing import ImportRejected


class Command(BaseCommand):
    help = (
        "Import estates (小区) from GeoJSON, Shapefile or GeoPackage polygons: name, code, community "
        "(code, or found from the outline), households, buildings, year_built, management "
        "(property/self/none or 物业/自管/无), party_org, owners_committee. All or nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument(
            "--srs", help="EPSG:4326 (GeoJSON default), EPSG:4490, EPSG:4491-4554 or gcj02; overrides the file's .prj"
        )
        parser.add_argument("--encoding", help="text encoding of a Shapefile's attributes, e.g. gbk")
        parser.add_argument("--layer", default=0, help="layer name or index of a GeoPackage")
        parser.add_argument("--name-field", help="attribute holding the name (default: name, xqmc, mc)")
        parser.add_argument("--code-field", help="attribute holding the estate code (default: code, xqbm)")
        parser.add_argument("--community-field", help="attribute holding the community code (default: community)")
        parser.add_argument(
            "--allow-rejects", action="store_true", help="import the good features even if some are rejected"
        )

    def handle(self, *args, **opts):
        try:
            srs = parse_srs(opts["srs"]) if opts["srs"] else None
        except UnknownSRS as exc:
            raise CommandError(str(exc)) from exc
        layer = int(opts["layer"]) if is_ascii_number(str(opts["layer"])) else opts["layer"]
        try:
            summary = import_estates(
                path=opts["path"],
                srs=srs,
                encoding=opts["encoding"],
                layer=layer,
                name_field=opts["name_field"],
                code_field=opts["code_field"],
                community_field=opts["community_field"],
                allow_rejects=opts["allow_rejects"],
                progress=opts["verbosity"] > 0,
            )
        except SourceError as exc:
            raise CommandError(str(exc)) from exc
        except ImportRejected as exc:
            for line in exc.summary.lines():
                self.stderr.write(line)
            raise CommandError(f"{exc}; fix the features or pass --allow-rejects") from exc
        for line in summary.lines():
            self.stdout.write(line)
