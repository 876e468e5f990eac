"""The API of the clock-changing requests and supervision orders (layers/incidents/requests.py).

POST /incidents/{id}/requests/ asks (extension, return, suspension, void); the decider approves or
refuses at /incidents/requests/{pk}/approve/ or /refuse/; /incidents/requests/?state=pending is the
deciders' queue; /incidents/{id}/resume/ ends a suspension; /incidents/suspended/ lists suspended cases
(?review_due=true: those whose review date has come); /incidents/{id}/supervise/ orders a case supervised
and /incidents/supervision/{pk}/reply/ answers. Refusals: 409 (state, stale version), 403 (role), 400.
"""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from common.idempotency import IdempotentWrites
from common.scopes import request_scope
from layers.accounts.permissions import SignedIn
from layers.incidents import requests, selectors
from layers.incidents.api.serializers import CaseFeatureSerializer
from layers.incidents.api.views import (
    CaseFeatureList,
    _version_from,
    visible_case_and_input,
    visible_case_or_404,
    workflow_refusals,
)
from layers.incidents.models import Case, ClockRequest, Status, SupervisionOrder


class ClockRequestSerializer(serializers.ModelSerializer):
    class Meta:
        model = ClockRequest
        fields = [
            "id",
            "case",
            "kind",
            "state",
            "reason",
            "asked_by_name",
            "asked_at",
            "wanted_due_at",
            "review_on",
            "decided_by_name",
            "decided_at",
            "decision_note",
            "granted_due_at",
        ]


class SupervisionOrderSerializer(serializers.ModelSerializer):
    class Meta:
        model = SupervisionOrder
        fields = [
            "id",
            "case",
            "ordered_by_name",
            "ordered_at",
            "answer_by",
            "note",
            "reply",
            "replied_by_name",
            "replied_at",
            "escalation_level",
        ]


class AskSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ClockRequest.Kind.values)
    reason = serializers.CharField(max_length=4000)
    version = serializers.IntegerField(required=False, min_value=1)
    wanted_due_at = serializers.DateTimeField(required=False, help_text="extension: the due time asked for")
    review_on = serializers.DateField(required=False, help_text="suspension: the review date")


class DecideSerializer(serializers.Serializer):
    version = serializers.IntegerField(required=False, min_value=1, help_text="the case's version")
    note = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")
    due_at = serializers.DateTimeField(required=False, help_text="extension: the new due time granted")


class ResumeSerializer(serializers.Serializer):
    version = serializers.IntegerField(required=False, min_value=1)
    note = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")


class SuperviseSerializer(serializers.Serializer):
    version = serializers.IntegerField(required=False, min_value=1)
    answer_by = serializers.DateTimeField()
    note = serializers.CharField(max_length=4000)


class ReplySerializer(serializers.Serializer):
    reply = serializers.CharField(max_length=4000)


def _visible_request_or_404(request, request_id: int) -> ClockRequest:
    found = ClockRequest.objects.filter(pk=request_id).values_list("case_id", flat=True).first()
    if found is None:
        raise NotFound(f"id: no request {request_id} on the cases you may see")
    visible_case_or_404(request, found, Case.objects.only("id"))
    return ClockRequest.objects.get(pk=request_id)


class CaseRequestsView(IdempotentWrites, APIView):
    """A case's clock-changing requests (GET), or a new one (POST)."""

    permission_classes = [SignedIn]

    @extend_schema(operation_id="incidents_case_requests", responses=ClockRequestSerializer(many=True))
    def get(self, request, pk: int):
        case = visible_case_or_404(request, pk, Case.objects.only("id"))
        return Response(ClockRequestSerializer(case.clock_requests.order_by("asked_at", "id"), many=True).data)

    @extend_schema(
        operation_id="incidents_case_requests_ask", request=AskSerializer, responses={201: ClockRequestSerializer}
    )
    def post(self, request, pk: int):
        case, values = visible_case_and_input(request, pk, AskSerializer)
        with workflow_refusals():
            made = requests.ask(
                case_id=case.pk,
                kind=values["kind"],
                user=request.user,
                version=_version_from(request, values.get("version")),
                reason=values["reason"],
                wanted_due_at=values.get("wanted_due_at"),
                review_on=values.get("review_on"),
            )
        return Response(ClockRequestSerializer(made).data, status=status.HTTP_201_CREATED)


class RequestQueueView(generics.ListAPIView):
    """Requests on the cases the reader may see, newest first; `state` and `kind` filter."""

    serializer_class = ClockRequestSerializer
    permission_classes = [SignedIn]

    def get_queryset(self):
        cases = selectors.visible_cases(request_scope(self.request), Case.objects.all())
        queryset = ClockRequest.objects.filter(case__in=cases.values("id")).order_by("-asked_at", "-id")
        for name, choices in (("state", ClockRequest.State.values), ("kind", ClockRequest.Kind.values)):
            value = self.request.query_params.get(name)
            if value:
                if value not in choices:
                    raise ValidationError({name: f"one of {', '.join(choices)}"})
                queryset = queryset.filter(**{name: value})
        return queryset


def decision_view(approve: bool):
    class DecisionView(IdempotentWrites, APIView):
        permission_classes = [SignedIn]

        @extend_schema(
            request=DecideSerializer,
            responses=ClockRequestSerializer,
            operation_id=f"incidents_requests_{'approve' if approve else 'refuse'}",
        )
        def post(self, request, pk: int):
            found = _visible_request_or_404(request, pk)
            form = DecideSerializer(data=request.data)
            form.is_valid(raise_exception=True)
            values = form.validated_data
            with workflow_refusals():
                decided = requests.decide(
                    request_id=found.pk,
                    approve=approve,
                    user=request.user,
                    version=_version_from(request, values.get("version")),
                    note=values.get("note", ""),
                    due_at=values.get("due_at"),
                )
            return Response(ClockRequestSerializer(decided).data)

    DecisionView.__name__ = f"Request{'Approve' if approve else 'Refuse'}View"
    DecisionView.__doc__ = f"{'Approve' if approve else 'Refuse'} a pending request (the decider of its kind)."
    return DecisionView


class ResumeView(IdempotentWrites, APIView):
    """End a suspension: the case returns to its status with the time it had left (dispatcher)."""

    permission_classes = [SignedIn]

    @extend_schema(request=ResumeSerializer, responses=CaseFeatureSerializer)
    def post(self, request, pk: int):
        case, values = visible_case_and_input(request, pk, ResumeSerializer)
        with workflow_refusals():
            requests.resume_case(
                case_id=case.pk,
                user=request.user,
                version=_version_from(request, values.get("version")),
                note=values.get("note", ""),
            )
        fresh = selectors.case_queryset().get(pk=case.pk)
        return Response(CaseFeatureSerializer(fresh, context={"request": request}).data)


class SuspendedView(CaseFeatureList):
    """Suspended cases (挂账) of the reader's scope, earliest review first; `review_due=true`: date come."""

    def get_queryset(self):
        queryset = selectors.visible_cases(request_scope(self.request)).filter(status=Status.SUSPENDED)
        due = self.request.query_params.get("review_due")
        if due not in (None, "", "true", "false"):
            raise ValidationError({"review_due": "true or false"})
        if due == "true":
            queryset = queryset.filter(review_on__lte=timezone.localdate())
        return queryset.order_by("review_on", "id")


class SuperviseView(IdempotentWrites, APIView):
    """Order a case supervised (督办) by a date with a note (a leader or supervisor)."""

    permission_classes = [SignedIn]

    @extend_schema(request=SuperviseSerializer, responses={201: SupervisionOrderSerializer})
    def post(self, request, pk: int):
        case, values = visible_case_and_input(request, pk, SuperviseSerializer)
        with workflow_refusals():
            order = requests.order_supervision(
                case_id=case.pk,
                user=request.user,
                version=_version_from(request, values.get("version")),
                answer_by=values["answer_by"],
                note=values["note"],
            )
        return Response(SupervisionOrderSerializer(order).data, status=status.HTTP_201_CREATED)


class SupervisionReplyView(IdempotentWrites, APIView):
    """The department's reply to a supervision order."""

    permission_classes = [SignedIn]

    @extend_schema(request=ReplySerializer, responses=SupervisionOrderSerializer)
    def post(self, request, pk: int):
        case_id = SupervisionOrder.objects.filter(pk=pk).values_list("case_id", flat=True).first()
        if case_id is None:
            raise NotFound(f"id: no supervision order {pk} on the cases you may see")
        visible_case_or_404(request, case_id, Case.objects.only("id"))
        form = ReplySerializer(data=request.data)
        form.is_valid(raise_exception=True)
        with workflow_refusals():
            order = requests.reply_supervision(order_id=pk, user=request.user, reply=form.validated_data["reply"])
        return Response(SupervisionOrderSerializer(order).data)
