"""A GIN trigram index on estate names, for place search (pg_trgm comes with grids 0005)."""

import django.contrib.postgres.indexes
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('estates', '0002_year_built_validators'),
        ('grids', '0005_place_search_trigrams'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='estate',
            index=django.contrib.postgres.indexes.GinIndex(django.contrib.postgres.indexes.OpClass(models.F('name'), name='gin_trgm_ops'), name='estate_name_trgm'),
        ),
    ]
