"""manage.py apply_stage_limits: recompute open cases' deadlines from their categories' current limits
and the current calendar, in one statement (after a calendar year is entered, for instance)."""

from django.core.management.base import BaseCommand

from layers.incidents.models import Category
from layers.incidents.services import apply_stage_limits


class Command(BaseCommand):
    help = "Give open cases the deadlines their categories' limits and the working calendar give now."

    def add_arguments(self, parser):
        parser.add_argument("--category", action="append", help="category code (with its minors); all if none")

    def handle(self, *args, category=None, **options):
        chosen = None
        if category:
            chosen = list(Category.objects.filter(code__in=category))
            unknown = set(category) - {c.code for c in chosen}
            if unknown:
                self.stderr.write(f"--category: no category {', '.join(sorted(unknown))}")
                raise SystemExit(2)
        changed = apply_stage_limits(categories=chosen, note="apply_stage_limits")
        self.stdout.write(f"{changed} open case(s) got a new deadline")
