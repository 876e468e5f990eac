"""Token sign-in for mobile clients, and "who am I" for any client."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.response import Response
from rest_framework.views import APIView

from common.routing import mark_authorization
from common.scopes import request_scope
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


class TokenView(APIView):
    """POST username and password for an API token (mobile clients); DELETE revokes the caller's token.

    Send the token on every request as `Authorization: Token <token>`. The web pages use the session
    sign-in at /accounts/login/ instead.
    """

    throttle_scope = "login"  # password guessing: GRIDGIS THROTTLE_RATES["login"] per client

    def get_permissions(self):
        return [SignedIn()] if self.request.method == "DELETE" else []

    @extend_schema(
        operation_id="auth_token_obtain", request=AuthTokenSerializer, responses={200: TokenAnswerSerializer}, auth=[]
    )
    def post(self, request):
        form = AuthTokenSerializer(data=request.data, context={"request": request})
        form.is_valid(raise_exception=True)
        user = form.validated_data["user"]
        token, _ = Token.objects.get_or_create(user=user)
        # The client's next requests carry this header: they read the primary for a moment, where
        # the new token is (with read replicas; a no-op otherwise).
        mark_authorization(f"Token {token.key}")
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
