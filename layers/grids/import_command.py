"""The management command every file import shares (import_grids, import_estates, import_footprints):
the source options, parsed once; the importing service called with them; its summary on stdout, or the
rejects on stderr and a CommandError saying what to do."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from common.crs import UnknownSRS, parse_srs
from common.importing import SourceError
from common.text import is_ascii_number
from layers.grids.importing import ImportRejected, ImportSummary

SRS_HELP = "EPSG:4326 (GeoJSON default), EPSG:4490, EPSG:4491-4554 or gcj02; overrides the file's .prj"


class ImportCommand(BaseCommand):
    """A command importing PATH through `importer` (a service taking path, srs, encoding, allow_rejects
    and progress, and `layer` when `reads_layers`, and returning an ImportSummary). A subclass adds its
    own options in `add_import_arguments` and turns them into the service's other arguments in
    `import_options`, raising CommandError for a bad one."""

    importer = None  # the service, as staticmethod(...)
    reads_layers = True  # the service takes a GeoPackage's `layer`

    def add_import_arguments(self, parser) -> None:
        """The options of this import besides the source's."""

    def import_options(self, opts: dict) -> dict:
        """This import's arguments to the service, from its parsed options."""
        return {}

    def add_arguments(self, parser):
        parser.add_argument("path")
        self.add_import_arguments(parser)
        parser.add_argument("--srs", help=SRS_HELP)
        parser.add_argument("--encoding", help="text encoding of a Shapefile's attributes, e.g. gbk")
        if self.reads_layers:
            parser.add_argument("--layer", default=0, help="layer name or index of a GeoPackage")
        parser.add_argument(
            "--allow-rejects", action="store_true", help="import the good features even if some are rejected"
        )

    def run_import(self, **arguments) -> ImportSummary:
        return self.importer(**arguments)

    def handle(self, *args, **opts):
        options = self.import_options(opts)
        try:
            srs = parse_srs(opts["srs"]) if opts["srs"] else None
        except UnknownSRS as exc:
            raise CommandError(str(exc)) from exc
        if self.reads_layers:
            options["layer"] = int(opts["layer"]) if is_ascii_number(str(opts["layer"])) else opts["layer"]
        try:
            summary = self.run_import(
                path=opts["path"],
                srs=srs,
                encoding=opts["encoding"],
                allow_rejects=opts["allow_rejects"],
                progress=opts["verbosity"] > 0,
                **options,
            )
        except SourceError as exc:
            raise CommandError(str(exc)) from exc
        except ImportRejected as exc:
            for line in exc.summary.lines():
                self.stderr.write(line)
            raise CommandError(f"{exc}; fix the features or pass --allow-rejects") from exc
        for line in summary.lines():
            self.stdout.write(line)
