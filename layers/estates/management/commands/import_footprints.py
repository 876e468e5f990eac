"""manage.py import_footprints PATH --batch implement|plan|reserve [--user U] [--srs S] ..."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from common.crs import UnknownSRS, parse_srs
from common.importing import SourceError
from common.text import is_ascii_number
from layers.estates.importing import import_footprints
from layers.estates.models import Batch
from layers.grids.importing import ImportRejected


class Command(BaseCommand):
    help = (
        "Import renovation project footprints from GeoJSON, Shapefile or GeoPackage polygons, keyed by "
        "name, with optional starts_on/ends_on/budget attributes; each is linked to the estates it "
        "covers. All or nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--batch", required=True, choices=Batch.values)
        parser.add_argument("--user", help="username recorded as the projects' creator")
        parser.add_argument(
            "--srs", help="EPSG:4326 (GeoJSON default), EPSG:4490, EPSG:4491-4554 or gcj02; overrides the file's .prj"
        )
        parser.add_argument("--encoding", help="text encoding of a Shapefile's attributes, e.g. gbk")
        parser.add_argument("--layer", default=0, help="layer name or index of a GeoPackage")
        parser.add_argument("--name-field", help="attribute holding the project name (default: name)")
        parser.add_argument(
            "--allow-rejects", action="store_true", help="import the good features even if some are rejected"
        )

    def handle(self, *args, **opts):
        try:
            srs = parse_srs(opts["srs"]) if opts["srs"] else None
        except UnknownSRS as exc:
            raise CommandError(str(exc)) from exc
        user = None
        if opts["user"]:
            user = get_user_model().objects.filter(username=opts["user"]).first()
            if user is None:
                raise CommandError(f"no user {opts['user']!r}")
        layer = int(opts["layer"]) if is_ascii_number(str(opts["layer"])) else opts["layer"]
        try:
            summary = import_footprints(
                path=opts["path"],
                batch=opts["batch"],
                by=user,
                srs=srs,
                encoding=opts["encoding"],
                layer=layer,
                name_field=opts["name_field"],
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
