# Joins the online reassignment's answer table (0005_reassign_answer) with the line that 0009 merged.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0005_reassign_answer"),
        ("incidents", "0009_merge_office_worklists"),
    ]

    operations = []
