"""The role groups (layers.accounts.roles.ROLES) and the throttle counters' table.

The throttle table has the layout of Django's DatabaseCache (what `createcachetable` builds), written
here so that `migrate` makes it without reading settings; CACHES["throttle"] points at it by default.
"""

from django.db import migrations

ROLE_NAMES = ("citizen", "officer", "handler", "dispatcher", "leader", "planner", "supervisor", "admin")


def create_groups(apps, schema_editor):
    group = apps.get_model("auth", "Group")
    for name in ROLE_NAMES:
        group.objects.get_or_create(name=name)


THROTTLE_TABLE = """
CREATE TABLE IF NOT EXISTS gridgis_throttle_cache (
    cache_key varchar(255) NOT NULL PRIMARY KEY,
    value text NOT NULL,
    expires timestamp with time zone NOT NULL
);
CREATE INDEX IF NOT EXISTS gridgis_throttle_cache_expires ON gridgis_throttle_cache (expires);
"""


class Migration(migrations.Migration):
    dependencies = [("auth", "0012_alter_user_first_name_max_length")]

    operations = [
        # Groups are kept on reversal: users may have been put in them since.
        migrations.RunPython(create_groups, migrations.RunPython.noop),
        migrations.RunSQL(THROTTLE_TABLE, "DROP TABLE IF EXISTS gridgis_throttle_cache"),
    ]
