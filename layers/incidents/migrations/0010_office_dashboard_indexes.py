# The office dashboard at city scale (bench/office.py): its open and overdue counts per child grid and
# rung read case_open_grid alone (a partial index: open cases only), and the quarterly assessment reads
# the trail's steps from trail_case_at_steps, which takes over from trail_case_at (same key, the step
# and the rung included). Built concurrently, the new index before the old one goes: 14.5 M trail
# entries at city scale are indexed without blocking the writes of a running server.

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):

    atomic = False

    dependencies = [
        ('incidents', '0009_merge_office_worklists'),
    ]

    operations = [
        AddIndexConcurrently(
            model_name='case',
            index=models.Index(condition=models.Q(('status__in', ('reported', 'confirming', 'confirmed', 'registered', 'dispatched', 'handling', 'handled', 'verified'))), fields=['grid'], include=('escalation_level', 'due_at'), name='case_open_grid'),
        ),
        AddIndexConcurrently(
            model_name='trailentry',
            index=models.Index(fields=['case', 'at'], include=('action', 'escalation_level'), name='trail_case_at_steps'),
        ),
        RemoveIndexConcurrently(
            model_name='trailentry',
            name='trail_case_at',
        ),
    ]
