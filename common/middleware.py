"""Request size limits checked before any view reads the body; 429s raised in plain Django views."""

from __future__ import annotations

from csp.middleware import CSPMiddleware
from django.conf import settings
from django.http import HttpResponse, JsonResponse
from rest_framework.exceptions import Throttled

from common import scopes


class RequestSizeLimitMiddleware:
    """Refuse with 413 a request whose declared body is over the limit, before it is read.

    Django applies DATA_UPLOAD_MAX_MEMORY_SIZE only when `request.body` is read, and DRF's parsers read
    the stream directly, so a JSON body of any size would reach the parser. Here a multipart body may
    be up to settings.GRIDGIS["MAX_UPLOAD_BYTES"] (photos), any other body up to
    DATA_UPLOAD_MAX_MEMORY_SIZE. (Django's WSGI handler reads a body without a Content-Length as empty.)
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse({"detail": "Content-Length: not a number"}, status=400)
        multipart = request.META.get("CONTENT_TYPE", "").startswith("multipart/")
        limit = settings.GRIDGIS["MAX_UPLOAD_BYTES"] if multipart else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and length > limit:
            return JsonResponse({"detail": f"body: {length} bytes is over the limit of {limit} bytes"}, status=413)
        return self.get_response(request)


class ThrottledAnswerMiddleware:
    """A DRF Throttled raised inside a plain Django view (the sign-in form, the admin's, whose password
    check is throttled in the authentication backend) answers 429 with Retry-After, not 500. DRF's
    own views answer it themselves."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, Throttled):
            return None
        if request.path.startswith("/api/"):
            response = JsonResponse({"detail": str(exception.detail)}, status=429)
        else:
            response = HttpResponse(str(exception.detail), status=429, content_type="text/plain; charset=utf-8")
        if exception.wait is not None:
            response["Retry-After"] = str(max(1, int(exception.wait)))
        return response


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware (policy in settings.CONTENT_SECURITY_POLICY), with one exception: pages
    under /admin/ may run inline scripts, as Django's geometry editor writes one into the change form
    without a request to take a nonce from. Everything else, the screens and maps included, runs only
    the app's own scripts and scripts carrying the request's nonce."""

    def get_policy_parts(self, request, response, report_only=False):
        if request.path_info.startswith("/admin/") and getattr(response, "_csp_update", None) is None:
            response._csp_update = {"script-src": ["'unsafe-inline'"]}
        return super().get_policy_parts(request, response, report_only)


class RequestScopeMiddleware:
    """Lets request_scope's answer serve the checks deeper down for this request only (common.scopes.
    serving_scope): empty when the request starts, as it was before once the response is made."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = scopes.serving_scope.set(None)
        request.gridgis_scope_served = True
        try:
            return self.get_response(request)
        finally:
            scopes.serving_scope.reset(token)
