"""Bookkeeping shared by the whole project."""

from django.db import models


class DemoSeed(models.Model):
    """A finished `seed_demo` run: lets a second `make demo` skip straight to serving."""

    scale = models.CharField(max_length=10)
    seed = models.IntegerField()
    finished_at = models.DateTimeField(auto_now_add=True)
    summary = models.JSONField(default=dict)

    class Meta:
        ordering = ["-finished_at"]

    def __str__(self) -> str:
        return f"{self.scale} seed {self.seed} at {self.finished_at:%Y-%m-%d %H:%M}"
