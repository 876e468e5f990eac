"""manage.py backup PATH: the database (pg_dump -Fc) and the media folder in one tar archive."""

from django.core.management.base import BaseCommand, CommandError

from common.backup import BackupError, backup


class Command(BaseCommand):
    help = "Write the database and the photos (MEDIA_ROOT) to one archive; restore it with `restore PATH`."

    def add_arguments(self, parser):
        parser.add_argument("path", help="the archive to write, e.g. var/backups/gridgis-2026-11-23.tar")

    def handle(self, *args, **opts):
        try:
            summary = backup(opts["path"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"backup: {summary['archive']} (database {summary['database_bytes']} bytes, "
            f"{summary['media_files']} media files)"
        )
