"""WSGI entry point for gunicorn."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gridgis.settings")
application = get_wsgi_application()

# This process accepts reports: say so in the database, for the work that must wait for no server
# (common/serving.py; `manage.py reassign --offline` is refused while any holds the lock).
from common.serving import announce_serving  # noqa: E402 (after Django is set up)

announce_serving()
