"""manage.py import_grids PATH --level LEVEL [--parent CODE] [--code-field F] [--name-field F] [--srs S]"""

from django.core.management.base import BaseCommand, CommandError

from common.crs import UnknownSRS, parse_srs
from common.importing import SourceError
from layers.grids.importing import ImportRejected, import_grids
from layers.grids.models import Grid, Level


class Command(BaseCommand):
    help = (
        "Import grid boundaries from GeoJSON (geometry, Feature or FeatureCollection), Shapefile or "
        "GeoPackage. Same codes update in place; all or nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--level", required=True, help="city, district, street, community, grid or microgrid")
        parser.add_argument("--parent", help="parent grid code (default: the code less its last 3 digits)")
        parser.add_argument("--code-field", help="attribute holding the code (default: code or adcode)")
        parser.add_argument("--name-field", help="attribute holding the name (default: name)")
        parser.add_argument("--name", help="name for every feature (for single-boundary files)")
        parser.add_argument(
            "--srs", help="EPSG:4326 (GeoJSON default), EPSG:4490, EPSG:4491-4554 or gcj02; overrides the file's .prj"
        )
        parser.add_argument("--encoding", help="text encoding of a Shapefile's attributes, e.g. gbk")
        parser.add_argument(
            "--allow-rejects", action="store_true", help="import the good features even if some are rejected"
        )

    def handle(self, *args, **opts):
        try:
            level = Level.from_name(opts["level"])
            srs = parse_srs(opts["srs"]) if opts["srs"] else None
        except (ValueError, UnknownSRS) as exc:
            raise CommandError(str(exc)) from exc
        try:
            summary = import_grids(
                path=opts["path"],
                level=level,
                parent_code=opts["parent"],
                code_field=opts["code_field"],
                name_field=opts["name_field"],
                name=opts["name"],
                srs=srs,
                encoding=opts["encoding"],
                allow_rejects=opts["allow_rejects"],
                progress=opts["verbosity"] > 0,
            )
        except Grid.DoesNotExist as exc:
            raise CommandError(f"parent grid {opts['parent']!r} does not exist") from exc
        except SourceError as exc:
            raise CommandError(str(exc)) from exc
        except ImportRejected as exc:
            for line in exc.summary.lines():
                self.stderr.write(line)
            raise CommandError(f"{exc}; fix the features or pass --allow-rejects") from exc
        for line in summary.lines():
            self.stdout.write(line)
