"""How API requests sign in: Django's session (the map pages, the browsable API), then a token
(mobile clients; POST /api/v1/auth/token/)."""

from drf_spectacular.authentication import SessionScheme
from rest_framework.authentication import SessionAuthentication


class SessionThenTokenChallenge(SessionAuthentication):
    """Django's session, tried first.

    DRF answers a refused request with 401 only when the first scheme names a challenge, and the
    session scheme names none, so a wrong or revoked token would get 403 like an anonymous reader.
    A request that presented a token in its Authorization header and was refused gets 401 with the
    `Token` challenge (RFC 9110, 15.5.2: the credentials were wrong, try others); one that presented
    none still gets 403.
    """

    def authenticate_header(self, request):
        scheme = request.META.get("HTTP_AUTHORIZATION", "").split(" ", 1)[0]
        return "Token" if scheme.lower() == "token" else None


class SessionThenTokenChallengeScheme(SessionScheme):
    """The OpenAPI schema documents it as the session cookie it is (drf-spectacular matches exact classes)."""

    target_class = "layers.accounts.authentication.SessionThenTokenChallenge"
