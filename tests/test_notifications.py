"""Notifications: the inbox and its unread count, e-mail through a real SMTP server on loopback (aiosmtpd),
signed webhooks to a real HTTP receiver that fails twice before accepting (delivered once each, in
order), quiet hours, delivery never inside the request, and a worker killed mid-delivery losing nothing."""

import datetime
import hashlib
import hmac
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.contrib.gis.geos import Point
from django.db import connection

from common import notifications
from common.models import Notification, NotificationPreference, OutboxMessage
from common.photos import check_photo
from layers.grids.models import DutyKind
from layers.incidents import requests, services
from layers.incidents.models import Case, Category
from tests.factories import make_duty, make_person, tree_with_departments
from tests.factories_incidents import china_time as at
from tests.factories_incidents import image_upload, make_category, make_user

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Receiver(BaseHTTPRequestHandler):
    """A webhook receiver: answers 500 to the first `failures` POSTs, then 200; keeps what it accepted."""

    def do_POST(self):  # noqa: N802 (http.server's name)
        server = self.server
        body = self.rfile.read(int(self.headers["Content-Length"]))
        server.seen.append(self.headers["X-Gridgis-Delivery"])
        if server.hang.is_set():
            server.hung.set()
            time.sleep(30)  # the worker is killed while it waits here
        if len(server.seen) <= server.failures:
            self.send_response(500)
            self.end_headers()
            return
        server.accepted.append((self.headers["X-Gridgis-Delivery"], self.headers["X-Gridgis-Signature"], body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    server.seen, server.accepted, server.failures = [], [], 0
    server.hang, server.hung = threading.Event(), threading.Event()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.hang.clear()
    server.shutdown()
    server.server_close()


class Mailbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append((envelope.rcpt_tos, envelope.content.decode()))
        return "250 OK"


@pytest.fixture
def smtp(settings):
    mailbox, port = Mailbox(), free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    yield mailbox
    controller.stop()


def verify(secret: str, header: str, body: bytes) -> bool:
    parts = dict(item.split("=", 1) for item in header.split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])


@pytest.fixture
def world():
    grids = tree_with_departments()
    cgj = grids["cgj"]
    make_category("0101", default_department=cgj)
    officer = make_person("李网格员")
    make_duty(grids["g1"], DutyKind.OFFICER, officer)
    handler = make_user(department=cgj, name="城管队员")
    handler.email = "handler@example.org"
    handler.save()
    return {
        "dispatcher": make_user("dispatcher", name="调度员"),
        "handler": handler,
        "officer": make_user(person=officer),
    }


_SITES = itertools.count()


def a_registered_case(world):
    lon = 105.405 + 0.001 * (next(_SITES) % 10)  # ~100 m apart: never linked as "me too"
    case, _ = services.report_case(
        category=Category.objects.get(code="0101"),
        point=Point(lon, 28.93, srid=4326),
        input_point={"lon": lon, "lat": 28.93},
        input_srs="EPSG:4326",
    )
    return services.transition(case_id=case.pk, action="register", user=world["dispatcher"], version=case.version)


@pytest.mark.django_db
def test_dispatch_fills_the_inbox_and_leaves_mail_to_the_worker(api, world, settings):
    # A mail server that refuses connections: the dispatch must not notice, it only writes the outbox.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    NotificationPreference.objects.create(user=world["handler"], email=True)
    case = a_registered_case(world)
    api.force_authenticate(world["dispatcher"])
    answer = api.post(f"/api/v1/incidents/{case.pk}/dispatch/", {"version": case.version + 0}, format="json")
    assert answer.status_code == 200, answer.json()
    api.force_authenticate(world["handler"])
    assert api.get("/api/v1/notifications/unread/").json() == {"unread": 1}
    inbox = api.get("/api/v1/notifications/").json()["results"]
    assert [n["kind"] for n in inbox] == ["case_dispatched"] and inbox[0]["data"]["case"] == case.pk
    (waiting,) = OutboxMessage.objects.filter(notification__user=world["handler"])
    assert waiting.channel == "email" and waiting.delivered_at is None and waiting.attempts == 0
    # The worker meets the refusing server: the message waits for a retry, nothing is lost.
    notifications.deliver_one()
    waiting.refresh_from_db()
    assert waiting.delivered_at is None and waiting.attempts == 1 and waiting.last_error
    assert api.post(f"/api/v1/notifications/{inbox[0]['id']}/read/").status_code == 200
    assert api.get("/api/v1/notifications/unread/").json() == {"unread": 0}
    api.force_authenticate(world["dispatcher"])
    assert api.post(f"/api/v1/notifications/{inbox[0]['id']}/read/").status_code == 404  # not theirs


@pytest.mark.django_db
def test_a_fixed_case_tells_the_officer_and_a_request_tells_the_dispatchers(world):
    case = a_registered_case(world)
    case = services.transition(case_id=case.pk, action="dispatch", user=world["dispatcher"], version=case.version)
    case = services.transition(case_id=case.pk, action="accept", user=world["handler"], version=case.version)
    requests.ask(case_id=case.pk, kind="extension", user=world["handler"], version=case.version, reason="等待配件")
    assert list(Notification.objects.filter(user=world["dispatcher"]).values_list("kind", flat=True)) == [
        "request_awaits_decision"
    ]

    case.refresh_from_db()
    services.transition(
        case_id=case.pk,
        action="handle",
        user=world["handler"],
        version=case.version,
        note="已清运",
        photo=check_photo(image_upload()),
    )
    assert Notification.objects.filter(user=world["officer"], kind="case_awaits_check").count() == 1


@pytest.mark.django_db
def test_email_is_delivered_through_a_real_smtp_server(world, smtp):
    NotificationPreference.objects.create(user=world["handler"], email=True, email_address="duty@example.org")
    notifications.notify(users=[world["handler"]], kind="test", subject="案件 1 已派遣", body="请处置")
    assert smtp.messages == []  # nothing is sent by notify() itself
    assert notifications.deliver_due() == 1
    ((recipients, content),) = smtp.messages
    assert recipients == ["duty@example.org"] and "X-Gridgis-Delivery" in content
    assert OutboxMessage.objects.get().delivered_at is not None


@pytest.mark.django_db
def test_quiet_hours_hold_mail_until_they_end(world, smtp):
    NotificationPreference.objects.create(
        user=world["handler"], email=True, quiet_from=datetime.time(22, 0), quiet_until=datetime.time(7, 0)
    )
    notifications.notify(users=[world["handler"]], kind="test", subject="夜间", now=at(2026, 3, 2, 23, 0))
    assert Notification.objects.filter(user=world["handler"]).count() == 1  # the inbox does not wait
    assert OutboxMessage.objects.get().next_attempt_at == at(2026, 3, 3, 7, 0)
    assert notifications.deliver_due(now=at(2026, 3, 3, 6, 59)) == 0 and smtp.messages == []
    assert notifications.deliver_due(now=at(2026, 3, 3, 7, 0)) == 1 and len(smtp.messages) == 1


@pytest.mark.django_db
def test_a_webhook_failing_twice_gets_each_message_once_and_in_order(world, receiver, settings):
    settings.GRIDGIS = {**settings.GRIDGIS, "NOTIFY": {**settings.GRIDGIS["NOTIFY"], "RETRY_SECONDS": 30}}
    receiver.failures = 2
    url = f"http://127.0.0.1:{receiver.server_port}/hook"
    NotificationPreference.objects.create(user=world["handler"], webhook=True, webhook_url=url, webhook_secret="s3")
    start = at(2026, 3, 2, 10, 0)
    for index in range(3):
        notifications.notify(users=[world["handler"]], kind="test", subject=f"第{index + 1}条", now=start)
    ids = list(OutboxMessage.objects.order_by("id").values_list("id", flat=True))
    # Attempt 1 fails; the later messages wait behind the first (order), so one attempt only.
    assert notifications.deliver_due(now=start) == 1
    assert notifications.deliver_due(now=start + datetime.timedelta(seconds=29)) == 0  # backoff: 30 s
    assert notifications.deliver_due(now=start + datetime.timedelta(seconds=30)) == 1  # fails again
    assert notifications.deliver_due(now=start + datetime.timedelta(seconds=89)) == 0  # backoff: 60 s
    assert notifications.deliver_due(now=start + datetime.timedelta(seconds=90)) == 3  # accepted, then the rest
    assert [int(delivery) for delivery, _, _ in receiver.accepted] == ids
    assert all(verify("s3", signature, body) for _, signature, body in receiver.accepted)
    assert [json.loads(body)["subject"] for _, _, body in receiver.accepted] == ["第1条", "第2条", "第3条"]
    assert list(OutboxMessage.objects.order_by("id").values_list("attempts", flat=True)) == [3, 1, 1]
    assert notifications.deliver_due(now=start + datetime.timedelta(hours=1)) == 0


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_delivery_loses_nothing(world, receiver):
    url = f"http://127.0.0.1:{receiver.server_port}/hook"
    NotificationPreference.objects.create(user=world["handler"], webhook=True, webhook_url=url, webhook_secret="k")
    for index in range(2):
        notifications.notify(users=[world["handler"]], kind="test", subject=f"第{index + 1}条")
    ids = list(OutboxMessage.objects.order_by("id").values_list("id", flat=True))
    db = connection.settings_dict
    host = urllib.parse.quote(db["HOST"] or "localhost", safe="")
    # With DATABASE_URL and DEBUG off the settings want a key of their own (a deployment's rule).
    env = {
        **os.environ,
        "DATABASE_URL": f"postgis://{db['USER']}@{host}/{db['NAME']}",
        "DJANGO_CONN_MAX_AGE": "0",
        "DJANGO_SECRET_KEY": "w" * 50,
    }
    receiver.hang.set()
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "deliver_notifications", "--idle", "0.2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        assert receiver.hung.wait(60), "the worker never reached the receiver"
        worker.send_signal(signal.SIGKILL)  # in the middle of the first delivery
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
    receiver.hang.clear()
    assert not OutboxMessage.objects.filter(delivered_at__isnull=False).exists()
    # The next worker (here, in this process) finds both; the killed attempt's lock died with it.
    deadline = time.monotonic() + 30
    while OutboxMessage.objects.filter(delivered_at__isnull=True).exists() and time.monotonic() < deadline:
        notifications.deliver_due()
        time.sleep(0.1)
    assert [int(delivery) for delivery, _, _ in receiver.accepted] == ids
    assert receiver.seen.count(str(ids[0])) == 2  # tried by the killed worker, then delivered


@pytest.mark.django_db
def test_a_leader_hears_once_per_rung_when_cases_in_their_area_climb(world):
    from layers.incidents.escalation import escalate

    leader = make_user(person=make_person("王书记"))
    cases = [a_registered_case(world) for _ in range(2)]
    Case.objects.filter(pk__in=[c.pk for c in cases]).update(leader=leader.person)
    due = Case.objects.get(pk=cases[0].pk).due_at
    # 60 days on: past 168 working hours late (about 24 working days), so every rung at once, both cases.
    escalate(due + datetime.timedelta(days=60))
    notes = list(Notification.objects.filter(user=leader).order_by("id").values_list("kind", "data"))
    assert notes == [("cases_escalated", {"level": level, "cases": 2}) for level in (1, 2, 3, 4)]


@pytest.mark.django_db(transaction=True)  # the queue's worker reads committed rows on its own connection
def test_the_queue_worker_sends_due_mail_and_climbs_the_ladder_on_its_schedule(world, smtp):
    from common.queue import app
    from common.tasks import deliver_notifications
    from layers.incidents.tasks import escalate_overdue
    from tests.queue_helpers import job_statuses, run_queued_jobs

    scheduled = {name: task.cron for (name, _), task in app.periodic_registry.periodic_tasks.items()}
    assert scheduled["common.tasks.deliver_notifications"] == "* * * * * */10"
    assert scheduled["layers.incidents.tasks.escalate_overdue"] == "* * * * *"
    NotificationPreference.objects.create(user=world["handler"], email=True, email_address="duty@example.org")
    notifications.notify(users=[world["handler"]], kind="test", subject="案件 1 已派遣", body="请处置")
    deliver_notifications.defer(timestamp=0)  # one tick, as the worker's scheduler would defer it
    escalate_overdue.defer(timestamp=0)
    run_queued_jobs(["notifications", "incidents"])
    ((recipients, _content),) = smtp.messages
    assert recipients == ["duty@example.org"] and OutboxMessage.objects.get().delivered_at is not None
    # The worker's own scheduler may have deferred a tick of each beside ours: every one succeeded.
    assert set(job_statuses("deliver_notifications")) == {"succeeded"}
    assert set(job_statuses("escalate_overdue")) == {"succeeded"}
