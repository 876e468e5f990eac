"""`manage.py load_calendar`: enter the official holidays and adjusted working days the installed
chinesecalendar package covers (days entered locally are kept), and say which years are still missing."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from common import workcalendar


class Command(BaseCommand):
    help = "Load China's official holidays and adjusted working days from the chinesecalendar package."

    def handle(self, *args, **options):
        loaded = workcalendar.load_package()
        self.stdout.write(
            f"chinesecalendar covers {loaded['first_year']}-{loaded['last_year']}: "
            f"{loaded['years']} years and {loaded['days']} days added"
        )
        this_year = timezone.localdate().year
        missing = workcalendar.missing_years(this_year, this_year + 1)
        if missing:
            self.stdout.write(
                f"not entered yet: {', '.join(map(str, missing))} (deadlines there count Monday-Friday; "
                "enter the State Council's schedule in the admin under Calendar days and Calendar years)"
            )
