"""Idempotency-Key for every write of the API: one mechanism that every POST, PUT, PATCH and DELETE
view goes through (tests/test_idempotency.py walks the URL conf to keep it so).

A client that may lose an answer (the officer's phone app, offline) sends `Idempotency-Key: <text>` on
a write and sends the same request again, with the same key, until it gets an answer. The first send
does the write and its answer (status, body, ETag and Location) is kept with the key, in the write's
own transaction; every later send with that key gets that first answer again, with the header
`Idempotent-Replayed: true`, and writes nothing. Two sends racing each other meet on a unique index:
the second waits for the first to commit and then replays it.

Keys belong to the client that made them: a signed-in user's keys are theirs alone (another user's
same key is another request), and an anonymous client's key is bound to the request it came with
(the key plus a digest of the method, path and body), so that nobody can take over a key to read
another client's answer or to make a later report vanish. A user who sends one of their keys again
with a different request gets 422. Only successful answers are kept: a refused write (4xx) stores
nothing and may be sent again. Keys are kept for GRIDGIS["IDEMPOTENCY_KEY_DAYS"] days.
"""

from __future__ import annotations

import datetime
import hashlib
import json

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.utils import timezone
from rest_framework.exceptions import APIException, ParseError, ValidationError
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from common.models import IdempotentRequest

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_KEY_LENGTH = 128
KEPT_HEADERS = ("ETag", "Location")


class KeyReused(APIException):
    status_code = 422
    default_code = "idempotency_key_reused"


def key_of(request) -> str | None:
    """The request's Idempotency-Key, or None; a 400 naming the header if it is unusable."""
    key = request.headers.get(HEADER, "").strip()
    if not key:
        return None
    if len(key) > MAX_KEY_LENGTH:
        raise ValidationError({HEADER: f"at most {MAX_KEY_LENGTH} characters"})
    if not key.isprintable() or not key.isascii():
        raise ValidationError({HEADER: "printable ASCII characters only"})
    return key


def _plain(value):
    if isinstance(value, UploadedFile):
        content = hashlib.sha256()
        for chunk in value.chunks():
            content.update(chunk)
        value.seek(0)
        return {"file": value.name, "size": value.size, "sha256": content.hexdigest()}
    return value


def fingerprint(request) -> str:
    """A digest of what the request asks for: method, path, query and body (files by their content)."""
    data = request.data
    if hasattr(data, "lists"):  # form or multipart: every value of every field, files by content
        body = sorted([name, [_plain(v) for v in values]] for name, values in data.lists())
    else:
        body = data
    try:
        canonical = json.dumps(
            [request.method, request.path, request.META.get("QUERY_STRING", ""), body],
            sort_keys=True,
            separators=(",", ":"),
            cls=JSONEncoder,
            default=str,
        )
    except RecursionError:
        raise ParseError("body: nested too deeply") from None
    return hashlib.sha256(canonical.encode()).hexdigest()


def client_of(request, key: str, digest: str) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return "anon:" + hashlib.sha256(f"{key}\n{digest}".encode()).hexdigest()[:64]


def _replay(found: IdempotentRequest, digest: str) -> Response:
    if found.fingerprint != digest:
        raise KeyReused(
            f"{HEADER}: this key was already used for another request ({found.method} {found.path} at "
            f"{timezone.localtime(found.created_at):%Y-%m-%d %H:%M:%S}); send a new key with a new request"
        )
    data = json.loads(found.body) if found.body else None
    response = Response(data, status=found.status)
    for name, value in found.headers.items():
        response[name] = value
    response[REPLAYED_HEADER] = "true"
    return response


def _kept_for() -> datetime.timedelta:
    return datetime.timedelta(days=settings.GRIDGIS["IDEMPOTENCY_KEY_DAYS"])


# The first send's claim on (client, key), in one statement: the row goes in unless the pair is
# there already; a racing send's uncommitted row is waited for on the unique index, and then counts
# as there if it committed. Answers the new row's id, or no row when the key was taken.
CLAIM_KEY = """
INSERT INTO common_idempotentrequest (client, key, fingerprint, method, path, status, body, headers, created_at)
VALUES (%(client)s, %(key)s, %(fingerprint)s, %(method)s, %(path)s, 0, '', '{}', %(now)s)
ON CONFLICT (client, key) DO NOTHING
RETURNING id
"""


def _claim(client: str, key: str, digest: str, request, now) -> int | None:
    params = {
        "client": client,
        "key": key,
        "fingerprint": digest,
        "method": request.method,
        "path": request.path[:300],
        "now": now,
    }
    with connection.cursor() as cursor:
        cursor.execute(CLAIM_KEY, params)
        row = cursor.fetchone()
    return None if row is None else row[0]


def run_once(request, key: str, handler, *args, **kwargs):
    """Run `handler` for the first send of (client, key); answer any later send with the first answer."""
    digest = fingerprint(request)
    client = client_of(request, key, digest)
    now = timezone.now()
    with transaction.atomic():
        record_id = _claim(client, key, digest, request, now)
        if record_id is None:
            # Sent before (or by a racing send that committed first): replay that answer, unless it
            # expired, when the key starts afresh.
            found = IdempotentRequest.objects.get(client=client, key=key)
            if found.created_at >= now - _kept_for():
                return _replay(found, digest)
            found.delete()
            record_id = _claim(client, key, digest, request, now)
        response = handler(request, *args, **kwargs)
        if not 200 <= response.status_code < 300:
            transaction.set_rollback(True)  # a refused write keeps nothing, not even the key
            return response
        IdempotentRequest.objects.filter(pk=record_id).update(
            status=response.status_code,
            body="" if response.data is None else json.dumps(response.data, cls=JSONEncoder),
            headers={name: response[name] for name in KEPT_HEADERS if response.has_header(name)},
        )
        return response


class IdempotentWrites:
    """DRF view mixin: POST, PUT, PATCH and DELETE honour `Idempotency-Key` through run_once().

    A view that must not (signing in: its answer is a secret) says why in `idempotency_exempt`.
    """

    idempotency_exempt: str = ""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authentication, permissions, throttles first
        if request.method not in WRITE_METHODS:
            return
        key = key_of(request)
        handler = getattr(self, request.method.lower(), None)
        if key is None or handler is None:
            return
        # DRF's dispatch() looks the handler up after initial(): shadow it with the once-only one.
        setattr(self, request.method.lower(), lambda req, *a, **kw: run_once(req, key, handler, *a, **kw))


def purge_expired(now: datetime.datetime | None = None) -> int:
    """Delete the keys older than GRIDGIS["IDEMPOTENCY_KEY_DAYS"]; returns how many."""
    cutoff = (now or timezone.now()) - _kept_for()
    deleted, _ = IdempotentRequest.objects.filter(created_at__lt=cutoff).delete()
    return deleted
