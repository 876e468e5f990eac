"""Notifications: an inbox in the app, and e-mail and signed webhooks delivered from a durable outbox.

`notify(users=..., kind=..., subject=...)` is called inside the transaction of the change it reports:
it writes the inbox rows and, for each person who chose e-mail or a webhook, an outbox row; nothing
leaves the machine in the request. `deliver_due()` is the delivery worker's step (`manage.py
deliver_notifications` loops over it; a job queue can call it as a periodic task): it takes due outbox
rows with SELECT ... FOR UPDATE SKIP LOCKED, one per target at a time and oldest first (so a target
receives its messages in order, a failing one holding back the ones after it), sends each, and marks it
delivered in the same transaction: a worker killed mid-delivery leaves the row waiting for the next
one, so nothing is lost (delivery is at least once; each message carries its id for receivers to drop
a repeat). A failed attempt is retried after GRIDGIS NOTIFY RETRY_SECONDS × 2^(attempts - 1), up to
MAX_ATTEMPTS, then kept as failed. Quiet hours hold e-mail and webhooks (not the inbox) until they end.

Webhooks are POSTed as JSON with `X-Gridgis-Delivery: <outbox id>` and `X-Gridgis-Signature:
t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the person's secret>`.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import urllib.error
import urllib.request
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils import timezone

from common.models import Notification, NotificationPreference, OutboxMessage

SIGNATURE_HEADER = "X-Gridgis-Signature"
DELIVERY_HEADER = "X-Gridgis-Delivery"


def _config() -> dict:
    return settings.GRIDGIS["NOTIFY"]


def quiet_until(preference: NotificationPreference | None, now: datetime.datetime) -> datetime.datetime:
    """When an e-mail or webhook asked for at `now` may go: `now`, or the end of the person's quiet hours."""
    if preference is None or preference.quiet_from is None or preference.quiet_until is None:
        return now
    local = timezone.localtime(now)
    start, end, clock = preference.quiet_from, preference.quiet_until, local.time()
    inside = start <= clock < end if start < end else (clock >= start or clock < end)
    if not inside:
        return now
    ends = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    return ends if ends > local else ends + datetime.timedelta(days=1)


def notify(*, users: Iterable, kind: str, subject: str, body: str = "", data: dict | None = None, now=None) -> int:
    """Tell `users` (each once) about something: inbox rows now, e-mail and webhook rows in the outbox.

    Call it inside the transaction of the change it reports. Returns how many inbox rows were written."""
    now = now or timezone.now()
    people = {user.pk: user for user in users if user is not None and user.is_active}
    if not people:
        return 0
    notes = Notification.objects.bulk_create(
        [
            Notification(user_id=pk, kind=kind, subject=subject[:200], body=body, data=data or {}, created_at=now)
            for pk in sorted(people)
        ]
    )
    preferences = {p.user_id: p for p in NotificationPreference.objects.filter(user_id__in=people)}
    outbox = []
    for note in notes:
        preference = preferences.get(note.user_id)
        if preference is None:
            continue
        when = quiet_until(preference, now)
        address = preference.email_address or people[note.user_id].email
        if preference.email and address:
            outbox.append(
                OutboxMessage(notification=note, channel="email", target=address, created_at=now, next_attempt_at=when)
            )
        if preference.webhook and preference.webhook_url:
            outbox.append(
                OutboxMessage(
                    notification=note,
                    channel="webhook",
                    target=preference.webhook_url,
                    secret=preference.webhook_secret,
                    created_at=now,
                    next_attempt_at=when,
                )
            )
    OutboxMessage.objects.bulk_create(outbox)
    return len(notes)


# --- Delivery ---------------------------------------------------------------------------------------------


# --- The inbox, as the screens read and mark it (the API has the same in common/notifications_api.py) ---


def unread_count(user) -> int:
    """How many of `user`'s inbox entries are unread (the partial index notification_unread)."""
    if not (user and user.is_authenticated):
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def inbox(user, limit: int = 50) -> list[Notification]:
    """`user`'s latest inbox entries, newest first."""
    return list(Notification.objects.filter(user=user).order_by("-created_at", "-id")[:limit])


@transaction.atomic
def mark_all_read(*, user, now: datetime.datetime | None = None) -> int:
    """Mark every unread entry of `user` read at `now` (each keeps when it was read); returns how many."""
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=now or timezone.now())


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The webhook signature header's value for `body` sent at `timestamp`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _payload(message: OutboxMessage) -> dict:
    note = message.notification
    return {
        "delivery": message.pk,
        "kind": note.kind,
        "subject": note.subject,
        "body": note.body,
        "data": note.data,
        "created_at": note.created_at.isoformat(),
    }


def _send_email(message: OutboxMessage) -> None:
    note = message.notification
    email = EmailMessage(
        subject=note.subject,
        body=note.body or note.subject,
        to=[message.target],
        headers={DELIVERY_HEADER: str(message.pk), "Message-ID": f"<outbox-{message.pk}@gridgis>"},
        connection=get_connection(timeout=_config()["TIMEOUT_SECONDS"]),
    )
    email.send(fail_silently=False)


def _send_webhook(message: OutboxMessage, now: datetime.datetime) -> None:
    body = json.dumps(_payload(message), ensure_ascii=False, sort_keys=True).encode()
    request = urllib.request.Request(
        message.target,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            DELIVERY_HEADER: str(message.pk),
            SIGNATURE_HEADER: sign(message.secret, int(now.timestamp()), body),
        },
    )
    with urllib.request.urlopen(request, timeout=_config()["TIMEOUT_SECONDS"]) as answer:  # noqa: S310 (http(s) URLs from admins' settings)
        if not 200 <= answer.status < 300:
            raise OSError(f"webhook answered {answer.status}")


# The oldest due message of each target whose earlier messages are all delivered or given up.
_DUE = """
SELECT o.id FROM common_outboxmessage o
WHERE o.delivered_at IS NULL AND o.failed_at IS NULL AND o.next_attempt_at <= %s
  AND NOT EXISTS (SELECT 1 FROM common_outboxmessage e
                  WHERE e.target = o.target AND e.id < o.id AND e.delivered_at IS NULL AND e.failed_at IS NULL)
ORDER BY o.id
LIMIT 1
FOR UPDATE SKIP LOCKED
"""


def deliver_one(now: datetime.datetime | None = None) -> OutboxMessage | None:
    """Deliver (or fail once) the next due outbox message, in one transaction; None when none is due."""
    now = now or timezone.now()
    with transaction.atomic():
        found = list(OutboxMessage.objects.raw(_DUE, [now]))
        if not found:
            return None
        message = OutboxMessage.objects.select_related("notification").get(pk=found[0].pk)
        message.attempts += 1
        try:
            if message.channel == OutboxMessage.Channel.EMAIL:
                _send_email(message)
            else:
                _send_webhook(message, now)
        except (OSError, urllib.error.URLError) as exc:
            message.last_error = str(exc)[:2000]
            if message.attempts >= _config()["MAX_ATTEMPTS"]:
                message.failed_at = now
            else:
                delay = _config()["RETRY_SECONDS"] * 2 ** (message.attempts - 1)
                message.next_attempt_at = now + datetime.timedelta(seconds=delay)
        else:
            message.delivered_at = now
            message.last_error = ""
        message.save(update_fields=["attempts", "last_error", "failed_at", "next_attempt_at", "delivered_at"])
        return message


def deliver_due(now: datetime.datetime | None = None, limit: int = 100) -> int:
    """Attempt up to `limit` due messages; how many were attempted (the worker sleeps when 0)."""
    attempted = 0
    while attempted < limit and deliver_one(now) is not None:
        attempted += 1
    return attempted
