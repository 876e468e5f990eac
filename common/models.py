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


class IdempotentRequest(models.Model):
    """A write sent with an `Idempotency-Key`, and the first answer it got (common/idempotency.py).

    `client` is whose key it is: "user:<id>" for a signed-in user, or for an anonymous client
    "anon:" + a digest of the key and the request, so that nobody can take over another client's key.
    `fingerprint` is a digest of the method, path and body: the same key sent with another request is
    refused. The row is written in the write's own transaction, so it exists exactly when the write does.
    """

    client = models.CharField(max_length=80)
    key = models.CharField(max_length=128)
    fingerprint = models.CharField(max_length=64)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=300)
    status = models.PositiveSmallIntegerField()
    body = models.TextField(blank=True)
    headers = models.JSONField(default=dict)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            # Two racing sends of one key: the second waits on this index and then replays the first.
            models.UniqueConstraint(fields=["client", "key"], name="idempotent_request_client_key_unique")
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotent_request_created")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}] by {self.client}"


class JobRun(models.Model):
    """One piece of background work as a person follows it: what, for whom, how far, and its result.

    The queue's own job row (procrastinate_jobs, `job_id`) says whether a worker has it; this row says
    what it has done so far. `state` is the task's checkpoint: a job retried after its worker died
    reads it and goes on from there (common/jobs.py).
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        DONE = "done", "done"
        FAILED = "failed", "failed"

    kind = models.CharField(max_length=40)
    key = models.CharField(max_length=40, blank=True, default="", help_text="district code, or blank for all")
    parameters = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.FloatField(default=0.0)
    message = models.TextField(blank=True, default="")
    state = models.JSONField(default=dict)
    result = models.JSONField(default=dict)
    error = models.TextField(blank=True, default="")
    attempts = models.IntegerField(default=0)
    job_id = models.BigIntegerField(null=True, blank=True)
    requested_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_constraint=True
    )
    requested_via = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["kind", "key", "status"], name="common_jobrun_kind_key")]

    def __str__(self) -> str:
        return f"{self.kind} {self.key or 'all'} {self.status} {self.progress:.0%}"
