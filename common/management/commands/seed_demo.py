"""manage.py seed_demo [--scale demo|city] [--seed N] [--reset]"""

import importlib
import random
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from common.models import DemoSeed
from fixtures.demo import STEPS
from fixtures.demo.context import SeedContext


class Command(BaseCommand):
    help = (
        "Build the deterministic Luzhou demo: the real districts, a tiling grid tree, departments, "
        "people, duties and every layer's demo data. Skipped when the database already has it."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            choices=["demo", "city"],
            default="demo",
            help="demo: ~2,000 micro-grids; city: 20,000+ micro-grids for benchmarks",
        )
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--reset", action="store_true", help="empty the database first (all data!)")

    def handle(self, *args, **opts):
        if opts["reset"]:
            call_command("flush", interactive=False, verbosity=0)
        other = DemoSeed.objects.exclude(scale=opts["scale"], seed=opts["seed"]).first()
        if other:
            raise CommandError(f"the database already holds the {other}; pass --reset to rebuild it")
        # Steps already loaded are skipped, so a layer added later seeds into an existing demo.
        done = {name for run in DemoSeed.objects.all() for name in run.summary}
        todo = [dotted for dotted in STEPS if step_name(dotted) not in done]
        if not todo:
            self.stdout.write(f"seed_demo: already loaded ({DemoSeed.objects.first()}); nothing to do")
            return
        ctx = SeedContext(scale=opts["scale"], seed=opts["seed"], out=self.stdout)
        started = time.monotonic()
        summary = {}
        with transaction.atomic():
            for dotted in todo:
                step_started = time.monotonic()
                # Each step draws from its own generator: the same data whether the steps run
                # together or one at a time.
                ctx.rng = random.Random(f"{ctx.seed}:{step_name(dotted)}")
                result = importlib.import_module(dotted).seed(ctx)
                summary[step_name(dotted)] = result or {}
                ctx.log(f"seed_demo: {dotted} done in {time.monotonic() - step_started:.1f} s")
            DemoSeed.objects.create(scale=ctx.scale, seed=ctx.seed, summary=summary)
        ctx.log(f"seed_demo: {ctx.scale} data loaded in {time.monotonic() - started:.1f} s")


def step_name(dotted: str) -> str:
    return dotted.rsplit(".", 1)[-1]
