"""Token sign-in for mobile clients, and "who am I" for any client."""

from __future__ import annotations

from django.contrib.auth import update_session_auth_hash
from django.db import transaction
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.response import Response
from rest_framework.views import APIView

from common.scopes import request_scope
from layers.accounts.passwords import ThrottledPasswordChangeForm
from layers.accounts.permissions import SignedIn

ScopeSerializer = inline_serializer(
    "Scope",
    {
        "username": serializers.CharField(),
        "roles": serializers.ListField(child=serializers.CharField()),
        "grid_prefixes": serializers.ListField(
            child=serializers.CharField(), help_text="codes of the grids whose subtree this user sees"
        ),
        "department_id": serializers.IntegerField(allow_null=True),
    },
)

TokenAnswerSerializer = inline_serializer(
    "TokenAnswer",
    {
        "token": serializers.CharField(help_text='send as the header "Authorization: Token <token>"'),
        "username": serializers.CharField(),
        "roles": serializers.ListField(child=serializers.CharField()),
    },
)


def scope_document(request) -> dict:
    scope = request_scope(request)
    return {
        "username": request.user.get_username(),
        "roles": sorted(scope.roles),
        "grid_prefixes": list(scope.grid_prefixes),
        "department_id": scope.department_id,
    }


@transaction.atomic
def issue_token(user) -> Token:
    """A fresh token for `user`: rotation, the one they had stops working."""
    Token.objects.filter(user=user).delete()
    return Token.objects.create(user=user)


class TokenView(APIView):
    """POST username and password for an API token (mobile clients); DELETE revokes the caller's token.

    Each sign-in issues a new token (the previous one stops working); a token lasts GRIDGIS
    TOKEN_LIFETIME_HOURS, and a password change revokes it.

    Send the token on every request as `Authorization: Token <token>`. The web pages use the session
    sign-in at /accounts/login/ instead.
    """

    # Not common.idempotency.IdempotentWrites: signing in again is harmless, and keeping the answer
    # would store the token itself.
    idempotency_exempt = "signing in again is harmless; its answer is a secret"

    def get_permissions(self):
        return [SignedIn()] if self.request.method == "DELETE" else []

    @extend_schema(
        operation_id="auth_token_obtain", request=AuthTokenSerializer, responses={200: TokenAnswerSerializer}, auth=[]
    )
    def post(self, request):
        form = AuthTokenSerializer(data=request.data, context={"request": request})
        form.is_valid(raise_exception=True)
        user = form.validated_data["user"]
        token = issue_token(user)
        request.user = user
        return Response(
            {"token": token.key, "username": user.get_username(), "roles": sorted(request_scope(request).roles)}
        )

    @extend_schema(operation_id="auth_token_revoke", request=None, responses={204: None})
    def delete(self, request):
        Token.objects.filter(user=request.user).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    """The signed-in user's roles and scope: what the lists and maps will show them."""

    permission_classes = [SignedIn]

    @extend_schema(operation_id="auth_me", responses=ScopeSerializer)
    def get(self, request):
        return Response(scope_document(request))


class PasswordChangeInputSerializer(serializers.Serializer):
    old_password = serializers.CharField(trim_whitespace=False, style={"input_type": "password"})
    new_password = serializers.CharField(trim_whitespace=False, style={"input_type": "password"})


class PasswordView(APIView):
    """POST the old password and a new one: checks the old one (throttled like a sign-in), the new one
    against AUTH_PASSWORD_VALIDATORS, revokes every token of the user and answers a new one."""

    permission_classes = [SignedIn]
    # Not common.idempotency.IdempotentWrites: keeping the answer would store the new token; a resent
    # change fails on its old password and changes nothing.
    idempotency_exempt = "its answer is a secret (the new token)"

    @extend_schema(
        operation_id="auth_password_change", request=PasswordChangeInputSerializer, responses=TokenAnswerSerializer
    )
    def post(self, request):
        given = PasswordChangeInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        values = given.validated_data
        form = ThrottledPasswordChangeForm(
            request.user,
            {
                "old_password": values["old_password"],
                "new_password1": values["new_password"],
                "new_password2": values["new_password"],
            },
            request=request,
        )
        if not form.is_valid():
            names = {"old_password": "old_password", "new_password1": "new_password", "new_password2": "new_password"}
            raise serializers.ValidationError(
                {names.get(field, field): errors for field, errors in form.errors.items()}
            )
        user = form.save()  # the password change deletes the user's tokens (layers/accounts/signals.py)
        update_session_auth_hash(request._request, user)
        token = issue_token(user)
        return Response(
            {"token": token.key, "username": user.get_username(), "roles": sorted(request_scope(request).roles)}
        )
