"""The signed-in person's notifications: `/api/v1/notifications/` (inbox, newest first; `?unread=true`),
`/notifications/unread/` (the count every screen shows), `/notifications/{id}/read/`,
`/notifications/read-all/`, and `/notifications/preferences/` (channels and quiet hours)."""

from __future__ import annotations

from django.urls import path
from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import generics, serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from common import notifications
from common.idempotency import IdempotentWrites
from common.models import Notification, NotificationPreference


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "kind", "subject", "body", "data", "created_at", "read_at"]


class PreferenceSerializer(serializers.ModelSerializer):
    class Meta:
        model = NotificationPreference
        fields = [
            "email",
            "email_address",
            "webhook",
            "webhook_url",
            "webhook_secret",
            "quiet_from",
            "quiet_until",
        ]
        extra_kwargs = {"webhook_secret": {"write_only": True}}

    def validate(self, values):
        merged = {**({} if self.instance is None else PreferenceSerializer(self.instance).data), **values}
        if merged.get("webhook") and not merged.get("webhook_url"):
            raise ValidationError({"webhook_url": "give the URL to POST to when webhooks are on"})
        if (merged.get("quiet_from") is None) != (merged.get("quiet_until") is None):
            raise ValidationError({"quiet_until": "quiet hours need both quiet_from and quiet_until"})
        return values


class InboxPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class InboxView(generics.ListAPIView):
    serializer_class = NotificationSerializer
    permission_classes = [IsAuthenticated]
    pagination_class = InboxPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no user
            return Notification.objects.none()
        unread = self.request.query_params.get("unread")
        if unread not in (None, "", "true", "false"):
            raise ValidationError({"unread": "true or false"})
        queryset = Notification.objects.filter(user=self.request.user).order_by("-created_at", "-id")
        return queryset.filter(read_at__isnull=True) if unread == "true" else queryset


class UnreadCountView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=inline_serializer("UnreadCount", {"unread": serializers.IntegerField()}))
    def get(self, request):
        return Response({"unread": notifications.unread_count(request.user)})


class ReadView(IdempotentWrites, APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses=NotificationSerializer)
    def post(self, request, pk: int):
        note = Notification.objects.filter(user=request.user, pk=pk).first()
        if note is None:
            raise NotFound(f"id: no notification {pk} of yours")
        if note.read_at is None:
            note.read_at = timezone.now()
            note.save(update_fields=["read_at"])
        return Response(NotificationSerializer(note).data)


class ReadAllView(IdempotentWrites, APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses=inline_serializer("ReadAll", {"read": serializers.IntegerField()}))
    def post(self, request):
        return Response({"read": notifications.mark_all_read(user=request.user)})


class PreferenceView(IdempotentWrites, generics.RetrieveUpdateAPIView):
    serializer_class = PreferenceSerializer
    permission_classes = [IsAuthenticated]
    http_method_names = ["get", "put", "patch"]

    def get_object(self):
        if getattr(self, "swagger_fake_view", False):
            return NotificationPreference()
        return NotificationPreference.objects.get_or_create(user=self.request.user)[0]


urlpatterns = [
    path("notifications/", InboxView.as_view(), name="notifications"),
    path("notifications/unread/", UnreadCountView.as_view(), name="notifications-unread"),
    path("notifications/read-all/", ReadAllView.as_view(), name="notifications-read-all"),
    path("notifications/preferences/", PreferenceView.as_view(), name="notifications-preferences"),
    path("notifications/<int:pk>/read/", ReadView.as_view(), name="notification-read"),
]
