"""Request throttling per user and per IP, with every rate in settings.GRIDGIS["THROTTLE_RATES"].

Rates are read on each request (not frozen at import as DRF's own classes do), so a deployment or a
test changes them through settings. A rate of None switches that throttle off. The client IP is
REMOTE_ADDR unless REST_FRAMEWORK["NUM_PROXIES"] says how many trusted proxies add X-Forwarded-For:
otherwise a client could send its own X-Forwarded-For and get a fresh allowance per request.

Counters live in the "throttle" cache (settings.CACHES), which every worker shares: by default a
database table, so that with two gunicorn workers a client gets the rate once, not once per worker
(Django's local-memory cache is private to its process). Any shared backend may replace it.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import caches
from rest_framework.exceptions import Throttled
from rest_framework.throttling import ScopedRateThrottle, SimpleRateThrottle


def configured_rate(scope: str) -> str | None:
    """The rate for `scope` ("100/min", ...) from settings.GRIDGIS, or None when it is switched off."""
    return settings.GRIDGIS["THROTTLE_RATES"].get(scope)


THROTTLE_CACHE = "throttle"


class SharedCounters:
    """Counts in the shared "throttle" cache instead of DRF's default (per-process) one."""

    @property
    def cache(self):
        return caches[THROTTLE_CACHE]


class PerIPThrottle(SharedCounters, SimpleRateThrottle):
    """Every request, signed in or not, counts against its client IP (scope "ip")."""

    scope = "ip"

    def get_rate(self):
        return configured_rate(self.scope)

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class PerUserThrottle(SharedCounters, SimpleRateThrottle):
    """A signed-in user's requests count against the user, from whichever IPs (scope "user")."""

    scope = "user"

    def get_rate(self):
        return configured_rate(self.scope)

    def get_cache_key(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return None  # anonymous requests are limited by PerIPThrottle alone
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class ScopedThrottle(SharedCounters, ScopedRateThrottle):
    """A tighter rate for costly views that set `throttle_scope` (e.g. "intake"), per user or IP."""

    def get_rate(self):
        return configured_rate(self.scope)


def refused_by_throttles(request, scope: str | None = None) -> float | None:
    """For plain Django views (outside DRF): None if the per-IP, per-user and `scope` throttles let the
    request through, else the seconds to wait. Counts the request like DRF's own throttling does."""
    throttles = [PerIPThrottle(), PerUserThrottle()]
    if scope is not None:
        scoped = PerIPThrottle()
        scoped.scope = scope
        scoped.rate = configured_rate(scope)
        scoped.num_requests, scoped.duration = scoped.parse_rate(scoped.rate)
        throttles.append(scoped)
    waits = [throttle.wait() or 1.0 for throttle in throttles if not throttle.allow_request(request, None)]
    return max(waits) if waits else None


class TooManyAttempts(Throttled):
    """A 429 raised below a view (e.g. from an authentication backend): DRF answers it in API views,
    common.middleware.ThrottledAnswerMiddleware in plain Django views."""


class CountedRate(SharedCounters, SimpleRateThrottle):
    """One counter of `scope`'s rate for `ident` (or, with ident None, the client IP)."""

    def __init__(self, scope: str, ident: str | None):
        self.scope = scope
        self.ident = ident
        self.rate = configured_rate(scope)
        self.num_requests, self.duration = self.parse_rate(self.rate)

    def get_cache_key(self, request, view):
        ident = self.ident if self.ident is not None else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def refused(self, request) -> float | None:
        """Count one event; None if within the rate (or the rate is off), else the seconds to wait."""
        if self.rate is None or self.allow_request(request, None):
            return None
        return self.wait() or 1.0
