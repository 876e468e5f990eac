"""manage.py escalate: move late cases and unanswered supervision orders up the escalation ladder, and flag
suspended cases due for review (idempotent; run it from cron)."""

from django.core.management.base import BaseCommand
from django.utils.dateparse import parse_datetime

from layers.incidents.escalation import escalate, escalate_orders
from layers.incidents.requests import review_suspensions


class Command(BaseCommand):
    help = "Move overdue cases up the ladder rectify → expose → deduct points → hold to account."

    def add_arguments(self, parser):
        parser.add_argument("--now", help="pretend it is this ISO time (for replaying a missed run)")

    def handle(self, *args, now=None, **options):
        moment = parse_datetime(now) if now else None
        if now and moment is None:
            self.stderr.write(f"--now: {now!r} is not an ISO date-time")
            raise SystemExit(2)
        climbed = escalate(moment)
        for level, count in climbed.items():
            self.stdout.write(f"rung {level}: {count} case(s)")
        for level, count in escalate_orders(moment).items():
            self.stdout.write(f"rung {level}: {count} unanswered supervision order(s)")
        self.stdout.write(f"{review_suspensions(moment)} suspended case(s) due for review")
