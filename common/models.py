"""Bookkeeping shared by the whole project."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q


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


# --- The working calendar (common/workcalendar.py) ----------------------------------------------------
#
# Most stage limits of digital city management count working time (CJ/T 315): the city's working
# schedule (WorkPeriod rows of one WorkSchedule, 08:30-12:00 and 14:00-17:30 by default) on the days
# that are working days on mainland China's official calendar. A day is a working day when a
# CalendarDay row says so (kind "workday": an adjusted working Saturday or Sunday, 调休, or a local
# duty day), is not one when a row says "holiday" (a statutory or local holiday), and otherwise when it
# is Monday to Friday. The State Council's schedule comes from the chinesecalendar package (loaded
# by migration and by `manage.py load_calendar`); a CalendarYear row says a year's schedule has been
# entered, so deadlines in a year without one are flagged as counted Monday to Friday only.
#
# WorkingInterval is derived: every working interval from 2000 to 2099 with the working seconds that
# come before it, rebuilt by a statement trigger whenever a schedule, period or day changes, so the
# SQL function gridgis_due() finds any deadline with two index lookups (migration common.0005_working_time).


class Clock(models.TextChoices):
    WORKING = "working", "工作时间 working time"
    CLOCK = "clock", "自然时间 clock time"


class WorkSchedule(models.Model):
    """The city's working schedule: the time zone its periods are read in. The first row is the one in force."""

    name = models.CharField(max_length=100, default="工作时间")
    time_zone = models.CharField(max_length=64, default="Asia/Shanghai", help_text="IANA name, e.g. Asia/Shanghai")

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.time_zone})"


class WorkPeriod(models.Model):
    """One working period of every working day, e.g. 08:30-12:00."""

    schedule = models.ForeignKey(WorkSchedule, on_delete=models.CASCADE, related_name="periods")
    starts = models.TimeField()
    ends = models.TimeField()

    class Meta:
        ordering = ["schedule", "starts"]
        constraints = [models.CheckConstraint(name="workperiod_ends_after_start", condition=Q(ends__gt=F("starts")))]

    def __str__(self) -> str:
        return f"{self.starts:%H:%M}-{self.ends:%H:%M}"


class DaySource(models.TextChoices):
    PACKAGE = "package", "国务院安排 (chinesecalendar)"
    LOCAL = "local", "本地录入 entered here"


class CalendarYear(models.Model):
    """A year whose official schedule (holidays and adjusted working days) has been entered."""

    year = models.PositiveSmallIntegerField(unique=True)
    source = models.CharField(max_length=8, choices=DaySource.choices, default=DaySource.LOCAL)
    note = models.CharField(max_length=200, blank=True, help_text="e.g. 国办发明电〔2026〕N号")

    class Meta:
        ordering = ["year"]

    def __str__(self) -> str:
        return str(self.year)


class CalendarDay(models.Model):
    """A day that departs from the Monday-Friday rule: a holiday on a weekday or a working weekend day."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", "放假 holiday (no work)"
        WORKDAY = "workday", "上班 working day (调休 or duty day)"

    day = models.DateField(unique=True)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    name = models.CharField(max_length=100, blank=True, help_text="e.g. 春节 Spring Festival")
    source = models.CharField(max_length=8, choices=DaySource.choices, default=DaySource.LOCAL)

    class Meta:
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.day} {self.kind} {self.name}"


class WorkingInterval(models.Model):
    """Derived, never edited: one working interval and the working seconds of all intervals before it."""

    starts = models.DateTimeField(unique=True)
    ends = models.DateTimeField()
    before_s = models.BigIntegerField()
    after_s = models.BigIntegerField(db_index=True, help_text="before_s + the interval's length")

    class Meta:
        ordering = ["starts"]


# --- Notifications (common/notifications.py) --------------------------------------------------------------
#
# Each party learns of its work: an inbox row per person (read in the app, with an unread count), and,
# by the person's choice, an e-mail and/or a signed webhook (SMS gateways, work-chat bots). Inbox rows
# and outbox rows are written in the same transaction as the change that caused them; e-mail and
# webhooks are sent later by a worker (`manage.py deliver_notifications`) from the outbox, so a slow
# mail server never slows a dispatch and a crash loses nothing: an outbox row is marked delivered only
# in the transaction that sent it.


class NotificationPreference(models.Model):
    """One person's channels and quiet hours (local time; a window may run past midnight)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    email = models.BooleanField(default=False, help_text="also send each notification by e-mail")
    email_address = models.EmailField(blank=True, help_text="blank: the account's e-mail address")
    webhook = models.BooleanField(default=False, help_text="also POST each notification to webhook_url")
    webhook_url = models.URLField(blank=True)
    webhook_secret = models.CharField(max_length=128, blank=True, help_text="HMAC-SHA256 key for the signature")
    quiet_from = models.TimeField(null=True, blank=True, help_text="no e-mail or webhook from this time ...")
    quiet_until = models.TimeField(null=True, blank=True, help_text="... until this time (held, then sent)")

    def __str__(self) -> str:
        return f"preferences of {self.user}"


class Notification(models.Model):
    """An inbox entry: what a person should know or do (a case dispatched to them, a request to decide)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", db_index=False
    )
    kind = models.CharField(max_length=32)
    subject = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "created_at"], name="notification_user_at"),
            models.Index(fields=["user"], name="notification_unread", condition=Q(read_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind} {self.subject}"


class OutboxMessage(models.Model):
    """One e-mail or webhook delivery of a notification, waiting for (or done by) the delivery worker."""

    class Channel(models.TextChoices):
        EMAIL = "email", "e-mail"
        WEBHOOK = "webhook", "webhook"

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    target = models.CharField(max_length=500, help_text="the e-mail address or the webhook URL")
    secret = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField(help_text="not before: quiet hours, then the retry backoff")
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True, help_text="given up after the last attempt")

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at", "id"],
                name="outbox_waiting",
                condition=Q(delivered_at__isnull=True, failed_at__isnull=True),
            ),
            models.Index(
                fields=["target", "id"],
                name="outbox_target_waiting",
                condition=Q(delivered_at__isnull=True, failed_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} to {self.target} ({'delivered' if self.delivered_at else 'waiting'})"


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
