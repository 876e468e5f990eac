"""A gunicorn worker imports every view while it boots (gridgis/wsgi.py), not in its first request."""

import subprocess
import sys

from django.conf import settings

VIEWS = ("maps.views", "folium", "layers.incidents.api.views", "office.views", "field.views")


def test_loading_the_wsgi_application_imports_the_urlconf_and_every_view():
    # A process of its own, as a worker is (its serving-lock keeper is a daemon thread: the probe
    # exits as soon as it has printed).
    probe = "import sys, gridgis.wsgi; print(' '.join(m for m in sys.argv[1:] if m not in sys.modules))"
    run = subprocess.run(
        [sys.executable, "-c", probe, *VIEWS], cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split() == [], f"not imported when the worker booted: {run.stdout}"
