"""Serializers of the grid layer's API."""

from rest_framework import serializers

from layers.grids.models import Duty, Grid


class GridSummarySerializer(serializers.ModelSerializer):
    level = serializers.CharField(source="level_name")

    class Meta:
        model = Grid
        fields = ["code", "name", "level"]


class PersonDutySerializer(serializers.Serializer):
    """A leader or officer: who, how to reach them (staff only), and for which grid."""

    person_id = serializers.IntegerField(source="person.id", required=False, help_text="staff only")
    name = serializers.CharField(source="person.name", required=False, help_text="staff only")
    phone = serializers.CharField(source="person.phone", required=False, help_text="staff only")
    title = serializers.CharField(source="person.title")
    grid_code = serializers.CharField(source="grid.code")


class DepartmentDutySerializer(serializers.Serializer):
    code = serializers.CharField(source="department.code")
    name = serializers.CharField(source="department.name")
    kind = serializers.CharField()
    grid_code = serializers.CharField(source="grid.code")


class LocateResultSerializer(serializers.Serializer):
    outside = serializers.BooleanField()
    chain = GridSummarySerializer(many=True)
    leaders = PersonDutySerializer(many=True)
    officers = PersonDutySerializer(many=True)
    departments = DepartmentDutySerializer(many=True)


class DutySerializer(serializers.ModelSerializer):
    class Meta:
        model = Duty
        fields = ["id", "grid", "kind", "person", "department", "starts_on", "ends_on", "note"]
        read_only_fields = fields  # duties are kept in the admin; this only answers
