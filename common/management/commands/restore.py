"""manage.py restore PATH: replace the database and the media folder with a `backup` archive."""

from django.core.management.base import BaseCommand, CommandError

from common.backup import BackupError, restore


class Command(BaseCommand):
    help = "Replace the database and the photos (MEDIA_ROOT) with those in an archive written by `backup`."

    def add_arguments(self, parser):
        parser.add_argument("path")

    def handle(self, *args, **opts):
        try:
            summary = restore(opts["path"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"restore: {summary['archive']} ({summary['media_files']} media files)")
