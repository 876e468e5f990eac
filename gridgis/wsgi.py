"""WSGI entry point for gunicorn."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gridgis.settings")
application = get_wsgi_application()

# Import the URLconf, and with it every view, while the worker boots rather than in the first
# request it serves: it pulls in folium, which compiles its templates on import, and every layer's
# views, some 0.6 s of work that would otherwise fall on whichever report reaches a fresh worker first.
from importlib import import_module  # noqa: E402 (after Django is set up)

from django.conf import settings  # noqa: E402

import_module(settings.ROOT_URLCONF)

# This process accepts reports: say so in the database, for the work that must wait for no server
# (common/serving.py; `manage.py reassign --offline` is refused while any holds the lock).
from common.serving import announce_serving  # noqa: E402 (after Django is set up)

announce_serving()
