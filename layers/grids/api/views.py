"""The grid layer's API: locate (who answers for a place)."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from common.geometry import LonLatSerializer
from layers.grids.api.serializers import LocateResultSerializer
from layers.grids.selectors import locate_document


class LocateView(APIView):
    """Who is responsible at a point: the grid chain, leaders, officers and departments."""

    @extend_schema(parameters=[LonLatSerializer], responses=LocateResultSerializer)
    def get(self, request):
        query = LonLatSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(locate_document(query.validated_data["point"]))
