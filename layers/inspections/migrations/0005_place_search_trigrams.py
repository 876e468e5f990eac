"""A GIN trigram index on inspection point names, for place search (pg_trgm comes with grids 0005)."""

import django.contrib.postgres.indexes
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('grids', '0005_place_search_trigrams'),
        ('inspections', '0004_check_in_photo'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='inspectionpoint',
            index=django.contrib.postgres.indexes.GinIndex(django.contrib.postgres.indexes.OpClass(models.F('name'), name='gin_trgm_ops'), name='inspection_point_name_trgm'),
        ),
    ]
