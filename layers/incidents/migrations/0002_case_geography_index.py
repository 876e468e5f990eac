"""A GiST index on cases' location as geography, so "within R metres" (duplicates) is an index scan."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("incidents", "0001_initial")]
    operations = [
        migrations.RunSQL(
            "CREATE INDEX case_location_geog ON incidents_case USING gist ((location::geography));",
            "DROP INDEX IF EXISTS case_location_geog;",
        ),
    ]
