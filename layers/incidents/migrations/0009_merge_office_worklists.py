# Joins the office work lists' indexes and canned phrases (0007_office_worklists) with the line that
# 0008 merged.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0007_office_worklists"),
        ("incidents", "0008_merge_photo_names_and_follow_links"),
    ]

    operations = []
