"""The zh-hans catalogue Django loads (the compiled .mo) says what its source (.po) says."""

import gettext
import subprocess
from pathlib import Path

from django.conf import settings

CATALOGUE = Path(settings.BASE_DIR) / "maps" / "locale" / "zh_Hans" / "LC_MESSAGES"


def test_the_compiled_catalogue_is_the_source_catalogue_compiled(tmp_path):
    # msgfmt is GNU gettext's compiler (Debian's gettext), the one `manage.py compilemessages` runs.
    subprocess.run(["msgfmt", "-o", str(tmp_path / "django.mo"), str(CATALOGUE / "django.po")], check=True)
    with open(CATALOGUE / "django.mo", "rb") as committed, open(tmp_path / "django.mo", "rb") as fresh:
        committed_messages = gettext.GNUTranslations(committed)._catalog
        fresh_messages = gettext.GNUTranslations(fresh)._catalog
    assert committed_messages == fresh_messages
    assert committed_messages["Grid officer's map"] == "网格员地图"
