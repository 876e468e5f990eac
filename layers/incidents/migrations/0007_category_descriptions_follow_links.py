"""Categories get a one-line description for citizens; follow links let a reporter follow a case."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('incidents', '0006_confirm_on_site'),
    ]

    operations = [
        migrations.AddField(
            model_name='category',
            name='description_en',
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name='category',
            name='description_zh',
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.CreateModel(
            name='FollowLink',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('token', models.CharField(editable=False, max_length=64, unique=True)),
                ('for_reporter', models.BooleanField(default=False)),
                ('created_at', models.DateTimeField()),
                ('case', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='follow_links', to='incidents.case')),
            ],
            options={
                'ordering': ['created_at', 'id'],
            },
        ),
    ]
