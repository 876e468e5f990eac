"""The run's answers keyed by (run_id, case_id) alone: no surrogate id, no foreign key to the run.

The table holds only the answers of unfinished runs; an interrupted run's rows would not survive the
change of key, so the migration refuses while any are there (finish the run with
`manage.py reassign --resume`, or start it again after the upgrade).
"""

from django.db import migrations, models


def refuse_while_a_run_is_unfinished(apps, schema_editor):
    if apps.get_model("incidents", "ReassignAnswer").objects.exists():
        raise RuntimeError(
            "incidents_reassignanswer holds the answers of an unfinished reassignment: finish it with "
            "`manage.py reassign --resume` before this migration"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0013_merge_dashboard_indexes"),
    ]

    operations = [
        migrations.RunPython(refuse_while_a_run_is_unfinished, migrations.RunPython.noop),
        migrations.DeleteModel(name="ReassignAnswer"),
        migrations.CreateModel(
            name="ReassignAnswer",
            fields=[
                ("pk", models.CompositePrimaryKey("run_id", "case_id", blank=True, editable=False, primary_key=True, serialize=False)),
                ("run_id", models.BigIntegerField()),
                ("case_id", models.BigIntegerField()),
                ("status", models.CharField(max_length=12)),
                ("old_grid_id", models.BigIntegerField(null=True)),
                ("old_version", models.IntegerField(null=True)),
                ("grid_id", models.BigIntegerField(null=True)),
                ("grid_version", models.IntegerField(null=True)),
                ("new_district", models.CharField(max_length=6, null=True)),
            ],
        ),
    ]
