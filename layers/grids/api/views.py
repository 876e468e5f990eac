"""The grid layer's API: locate (who answers for a place) and place search (where is a name).

Locate is public, as a citizen needs to know which grid and departments answer for a place: the grid
chain (codes, names, levels) and the departments are public facts. The people on duty are not: a
reader without a staff role gets each leader and officer as their post and grid only, without name,
phone or id (layers.accounts.roles decides who is staff).
"""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from common.geometry import LonLatSerializer
from common.scopes import request_scope
from layers.grids import places
from layers.grids.api.serializers import LocateResultSerializer, PlaceSerializer
from layers.grids.selectors import locate_document

PUBLIC_PERSON_FIELDS = ("title", "grid_code")


def public_locate(document: dict) -> dict:
    """`document` without the people's names, phones and ids (for readers who are not staff)."""
    for key in ("leaders", "officers"):
        document[key] = [{name: person.get(name) for name in PUBLIC_PERSON_FIELDS} for person in document[key]]
    return document


class LocateView(APIView):
    """Who is responsible at a point: the grid chain, leaders, officers and departments.

    Leaders' and officers' names, phones and ids are shown to staff only; others get their posts."""

    @extend_schema(parameters=[LonLatSerializer], responses=LocateResultSerializer)
    def get(self, request):
        query = LonLatSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        document = locate_document(query.validated_data["point"])
        return Response(document if request_scope(request).is_staff else public_locate(document))


class PlaceQuerySerializer(serializers.Serializer):
    q = serializers.CharField(max_length=places.MAX_QUERY_LENGTH, help_text="a name or part of one, e.g. 滨江")
    limit = serializers.IntegerField(min_value=1, max_value=places.MAX_RESULTS, default=10)


class PlaceSearchView(APIView):
    """Places by name: streets, communities, unit grids, estates and inspection points, best match
    first, each with its kind, what it lies in and a point. Public (names of places, no people);
    throttled under the "lookup" rate."""

    throttle_scope = "lookup"

    @extend_schema(parameters=[PlaceQuerySerializer], responses=PlaceSerializer(many=True))
    def get(self, request):
        query = PlaceQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        found = places.search(query.validated_data["q"], query.validated_data["limit"])
        return Response(PlaceSerializer(found, many=True).data)
