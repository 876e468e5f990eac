"""How API requests sign in: Django's session (the map pages, the browsable API), then a token
(mobile clients; POST /api/v1/auth/token/)."""

import datetime

from django.conf import settings
from django.utils import timezone
from drf_spectacular.authentication import SessionScheme, TokenScheme
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed


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


# Tokens: DRF's own token model with a lifetime, rather than django-rest-knox. The lifetime needs no
# new table nor dependency (DRF's Token already records `created`), clients keep the
# `Authorization: Token <key>` scheme and the sign-in answer they have, and rotation and revocation
# are a delete: a new token at every sign-in (TokenView), every token of a user deleted when their
# password changes (layers/accounts/signals.py). knox would add hashed keys and one token per device;
# worth it once devices must be signed out one by one.
def token_lifetime() -> datetime.timedelta:
    return datetime.timedelta(hours=settings.GRIDGIS["TOKEN_LIFETIME_HOURS"])


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF's token authentication; a token older than GRIDGIS TOKEN_LIFETIME_HOURS is deleted and refused."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if token.created < timezone.now() - token_lifetime():
            token.delete()
            raise AuthenticationFailed("token expired; sign in again at POST /api/v1/auth/token/")
        return user, token


class ExpiringTokenScheme(TokenScheme):
    target_class = "layers.accounts.authentication.ExpiringTokenAuthentication"
