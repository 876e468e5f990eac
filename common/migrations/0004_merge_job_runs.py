# Joins the queue's job runs (0003_job_run) with the line that 0003_merge joined.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("common", "0003_job_run"),
        ("common", "0003_merge_0002_idempotent_requests_0002_scope_predicate"),
    ]

    operations = []
