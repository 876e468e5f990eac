"""pg_trgm and a GIN trigram index on grid names, for place search (layers/grids/places.py)."""

import django.contrib.postgres.indexes
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('grids', '0004_person_on_duty_function'),
    ]

    operations = [
        TrigramExtension(),
        migrations.AddIndex(
            model_name='grid',
            index=django.contrib.postgres.indexes.GinIndex(django.contrib.postgres.indexes.OpClass(models.F('name'), name='gin_trgm_ops'), name='grid_name_trgm'),
        ),
    ]
