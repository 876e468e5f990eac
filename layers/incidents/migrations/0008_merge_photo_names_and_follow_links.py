# Joins two lines of work that each added a migration after 0005: the photos' random names and kept
# originals (harden), and confirm-on-site, category descriptions and follow links (the phone screens).

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0006_photo_original_and_random_names"),
        ("incidents", "0007_category_descriptions_follow_links"),
    ]

    operations = []
