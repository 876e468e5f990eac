"""The grid layer's API: locate (who answers for a place).

Locate is public, as a citizen needs to know which grid and departments answer for a place: the grid
chain (codes, names, levels) and the departments are public facts. The people on duty are not: a
reader without a staff role gets each leader and officer as their post and grid only, without name,
phone or id (layers.accounts.roles decides who is staff).
"""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from common.geometry import LonLatSerializer
from common.scopes import request_scope
from layers.grids.api.serializers import LocateResultSerializer
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
