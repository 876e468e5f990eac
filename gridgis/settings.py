"""gridgis settings, read from the environment.

DATABASE_URL (postgis://user:pass@host:port/name) points at any PostGIS; without it the project's own
cluster under var/pg/ is used (see gridgis/localdb.py). DJANGO_SECRET_KEY and DJANGO_DEBUG configure a
deployment; the defaults suit a developer's machine.
"""

import os
from pathlib import Path

import dj_database_url

from gridgis import localdb

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "gridgis-development-only-key-change-me-in-deployment")
ALLOWED_HOSTS = [h for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "rest_framework",
    "rest_framework_gis",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "common.apps.CommonConfig",
    "layers.grids.apps.GridsConfig",
    "layers.accounts.apps.AccountsConfig",
    "layers.incidents.apps.IncidentsConfig",
    "layers.inspections.apps.InspectionsConfig",
    "layers.estates.apps.EstatesConfig",
    "layers.audits.apps.AuditsConfig",
    "maps.apps.MapsConfig",
    "fixtures.apps.FixturesConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "common.middleware.RequestSizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "common.middleware.ThrottledAnswerMiddleware",
]

# Every password check is throttled before it hashes (layers/accounts/passwords.py).
AUTHENTICATION_BACKENDS = ["layers.accounts.passwords.ThrottledModelBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": env_int("GRIDGIS_PASSWORD_MIN_LENGTH", 10)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

ROOT_URLCONF = "gridgis.urls"
WSGI_APPLICATION = "gridgis.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "map_templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

if os.environ.get("DATABASE_URL"):
    DATABASES = {
        "default": dj_database_url.parse(os.environ["DATABASE_URL"], engine="django.contrib.gis.db.backends.postgis")
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.contrib.gis.db.backends.postgis",
            "NAME": localdb.DB_NAME,
            "USER": localdb.DB_USER,
            "HOST": str(localdb.SOCKET_DIR),
        }
    }
# Notification e-mail (common/notifications.py) goes through Django's e-mail backend, from the outbox
# worker only (manage.py deliver_notifications), never inside a request.
EMAIL_HOST = os.environ.get("GRIDGIS_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("GRIDGIS_EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("GRIDGIS_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("GRIDGIS_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("GRIDGIS_EMAIL_USE_TLS", "") == "1"
DEFAULT_FROM_EMAIL = os.environ.get("GRIDGIS_EMAIL_FROM", "gridgis@localhost")

DATABASES["default"]["CONN_MAX_AGE"] = env_int("DJANGO_CONN_MAX_AGE", 600)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# Django warns that GDAL < 3.9 cannot block file and network access while parsing spatial references.
# gridgis never hands a client's SRS text to GDAL: common.crs accepts an allow-list of EPSG codes and
# gcj02 only, and common.geometry refuses GeoJSON "crs" members (tests/test_bad_input.py).
SILENCED_SYSTEM_CHECKS = ["gis.W001"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Caches: "default" is per process (local memory) for things each worker may keep to itself;
# "throttle" holds the request counters of common/throttling.py and must be shared by every worker
# (with 2 gunicorn workers, per-worker counters would let each client through twice the rate). By
# default it is the database table gridgis_throttle_cache (made by migration accounts 0001); set
# GRIDGIS_THROTTLE_CACHE_BACKEND / _LOCATION for another shared backend (e.g.
# django.core.cache.backends.redis.RedisCache and redis://host:6379/1).
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "throttle": {
        "BACKEND": os.environ.get("GRIDGIS_THROTTLE_CACHE_BACKEND", "django.core.cache.backends.db.DatabaseCache"),
        "LOCATION": os.environ.get("GRIDGIS_THROTTLE_CACHE_LOCATION", "gridgis_throttle_cache"),
        # Counters expire by themselves; DatabaseCache culls a third of the rows past MAX_ENTRIES.
        "OPTIONS": {"MAX_ENTRIES": env_int("GRIDGIS_THROTTLE_CACHE_MAX_ENTRIES", 100_000)},
    },
}

# Sign-in for the web pages (Django's auth views under /accounts/); mobile clients use tokens.
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/map/"
LOGOUT_REDIRECT_URL = "/map/"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = True
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("GRIDGIS_MEDIA_ROOT", BASE_DIR / "var" / "media"))

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "layers.accounts.authentication.SessionThenTokenChallenge",
        "layers.accounts.authentication.ExpiringTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # JSON with a nesting limit (common/parsers.py), forms, and multipart for photos and track files.
    "DEFAULT_PARSER_CLASSES": [
        "common.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "EXCEPTION_HANDLER": "common.api.exception_handler",
    # Per-IP and per-user limits (rates in GRIDGIS["THROTTLE_RATES"]); views may add a throttle_scope.
    "DEFAULT_THROTTLE_CLASSES": [
        "common.throttling.PerIPThrottle",
        "common.throttling.PerUserThrottle",
        "common.throttling.ScopedThrottle",
    ],
    # How many trusted proxies put the client address in X-Forwarded-For (0: use REMOTE_ADDR only).
    "NUM_PROXIES": env_int("GRIDGIS_NUM_PROXIES", 0),
}

# Request size limits: a non-file body (JSON, form fields) at most DATA_UPLOAD_MAX_MEMORY_SIZE (refused
# with 413 by common.middleware before it is read); uploads above FILE_UPLOAD_MAX_MEMORY_SIZE spool to
# a temporary file instead of memory.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("GRIDGIS_MAX_BODY_BYTES", 2 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000

SPECTACULAR_SETTINGS = {
    "TITLE": "gridgis API",
    "DESCRIPTION": "Grid management (网格化管理): the grid tree, duties, cases, inspections, estates and audits.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "ENUM_NAME_OVERRIDES": {
        "ProjectStatusEnum": "layers.estates.models.ProjectStatus",
        "SuggestionStatusEnum": "layers.estates.models.SuggestionStatus",
    },
    # Swagger UI's assets from the drf-spectacular-sidecar package, not a CDN: the docs work offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "WARNING")},
}

# gridgis's own knobs: every limit and default that a deployment may want to change.
GRIDGIS = {
    # Basemap for the map pages: "none", "osm", "tianditu" (needs TIANDITU_TOKEN) or a tile URL template.
    "BASEMAP": os.environ.get("GRIDGIS_BASEMAP", "none"),
    "TIANDITU_TOKEN": os.environ.get("GRIDGIS_TIANDITU_TOKEN", ""),
    # The city centre the demo data and the maps' first view are built around (WGS84 lon, lat).
    "CITY_CENTRE": (105.4425, 28.8717),
    # A metric CRS for planar measurements in the city (CGCS2000 Gauss-Krüger, CM 105°E, covers Luzhou).
    "METRIC_SRID": 4544,
    # Estates: how far around a renovation footprint the overlay looks for open cases (metres), and the
    # largest buffer a client may ask for.
    "OVERLAY_CASE_BUFFER_M": float(os.environ.get("GRIDGIS_OVERLAY_CASE_BUFFER_M", 50)),
    "OVERLAY_CASE_BUFFER_MAX_M": 2000.0,
    # Inspections: a check-in counts only this close to its point (metres); patrol coverage counts the
    # area within this distance of a track (metres) over the last days by default.
    "CHECKIN_MAX_DISTANCE_M": float(os.environ.get("GRIDGIS_CHECKIN_MAX_DISTANCE_M", 50)),
    "PATROL_COVERAGE_RADIUS_M": 30.0,
    "PATROL_COVERAGE_DAYS": 7,
    # The largest GPS track a patrol upload may carry (bytes and positions).
    "TRACK_MAX_BYTES": 5_000_000,
    "TRACK_MAX_POSITIONS": 50_000,
    # Cases (layers/incidents). Stage limits in hours, counted in working time or clock time
    # (common.models.Clock, the city's working calendar); a category may override each.
    "DEFAULT_STAGE_HOURS": {"register": 2, "dispatch": 2, "handle": 48, "verify": 24},
    "DEFAULT_STAGE_CLOCK": {"register": "working", "dispatch": "working", "handle": "working", "verify": "working"},
    # A point closer than this to its grid's edge is flagged for the dispatcher to confirm.
    "EDGE_METRES": float(os.environ.get("GRIDGIS_EDGE_METRES", 5)),
    # A report farther than this from every district is refused as a likely swapped lon/lat or wrong srs.
    "SERVICE_AREA_KM": float(os.environ.get("GRIDGIS_SERVICE_AREA_KM", 50)),
    # "Me too": a new case within this distance of an open case of the same category reported in the
    # last DUPLICATE_DAYS days is linked to it instead of starting a second workflow.
    "DUPLICATE_METRES": float(os.environ.get("GRIDGIS_DUPLICATE_METRES", 30)),
    "DUPLICATE_DAYS": float(os.environ.get("GRIDGIS_DUPLICATE_DAYS", 3)),
    # Reassignment after a redraw: when at least this fraction of all cases change grid, the case
    # table's plain indexes are dropped and built again around the write instead of being updated row
    # by row (layers/incidents/reassign.py; the crossover measured by `make bench`).
    "REASSIGN_REBUILD_FRACTION": float(os.environ.get("GRIDGIS_REASSIGN_REBUILD_FRACTION", 0.4)),
    # Photos: at most this many per upload, each at most PHOTO_MAX_BYTES and PHOTO_MAX_PIXELS.
    "PHOTO_MAX_COUNT": 6,
    "PHOTO_MAX_BYTES": 8 * 1024 * 1024,
    "PHOTO_MAX_PIXELS": 40_000_000,
    # The escalation ladder: hours past the current stage's due time at which each rung is reached
    # (1 rectify, 2 expose, 3 deduct points, 4 hold to account), in the clock of the stage's limit
    # (working hours for a working-time limit). Must increase.
    "ESCALATION_HOURS": {1: 0, 2: 24, 3: 72, 4: 168},
    # Extensions (延期) a case may be granted in all (layers/incidents/requests.py).
    "MAX_EXTENSIONS": env_int("GRIDGIS_MAX_EXTENSIONS", 2),
    # Notifications (common/notifications.py): a failed e-mail or webhook is retried after RETRY_SECONDS,
    # doubling each time, MAX_ATTEMPTS in all; TIMEOUT_SECONDS per SMTP or HTTP attempt.
    "NOTIFY": {
        "RETRY_SECONDS": float(os.environ.get("GRIDGIS_NOTIFY_RETRY_SECONDS", 30)),
        "MAX_ATTEMPTS": env_int("GRIDGIS_NOTIFY_MAX_ATTEMPTS", 8),
        "TIMEOUT_SECONDS": float(os.environ.get("GRIDGIS_NOTIFY_TIMEOUT_SECONDS", 10)),
    },
    # API tokens (POST /api/v1/auth/token/) are refused this many hours after sign-in (a new sign-in
    # rotates the token; a password change deletes them).
    "TOKEN_LIFETIME_HOURS": float(os.environ.get("GRIDGIS_TOKEN_LIFETIME_HOURS", 7 * 24)),
    # Idempotency-Key (common/idempotency.py): how long a key and its first answer are kept, in days
    # (an offline phone may send its queue days later).
    "IDEMPOTENCY_KEY_DAYS": float(os.environ.get("GRIDGIS_IDEMPOTENCY_KEY_DAYS", 7)),
    "CASE_PAGE_SIZE": 100,
    "CASE_MAX_PAGE_SIZE": 1000,
    # --- Limits on client input (common/geometry.py, common/listing.py, common/throttling.py) ---
    # JSON bodies: at most this many levels of nested objects and arrays (GeoJSON needs about 7).
    "MAX_JSON_DEPTH": env_int("GRIDGIS_MAX_JSON_DEPTH", 32),
    # Geometry input: at most this many vertices in one geometry.
    "MAX_VERTICES": env_int("GRIDGIS_MAX_VERTICES", 10_000),
    # bbox filters: a box over this area (km², on the ellipsoid) is refused; Luzhou is about 12,200 km².
    "MAX_BBOX_KM2": float(os.environ.get("GRIDGIS_MAX_BBOX_KM2", 20_000)),
    # GeoJSON listings: default page size and the hard cap on ?page_size=.
    "PAGE_SIZE": 100,
    "MAX_PAGE_SIZE": 1000,
    # A multipart body (photos) may be up to this size; other bodies up to DATA_UPLOAD_MAX_MEMORY_SIZE.
    "MAX_UPLOAD_BYTES": env_int("GRIDGIS_MAX_UPLOAD_BYTES", 6 * 8 * 1024 * 1024 + 1024 * 1024),
    # Requests per client IP and per signed-in user; "intake" is the scope of case reporting. None = off;
    # GRIDGIS_THROTTLE=off switches all of them off (the load benchmark measures idempotency, not limits).
    "THROTTLE_RATES": (
        {"ip": None, "user": None, "intake": None, "login": None, "login_account": None}
        if os.environ.get("GRIDGIS_THROTTLE", "on").lower() in {"off", "0", "false"}
        else {
            "ip": os.environ.get("GRIDGIS_RATE_IP", "1200/min"),
            "user": os.environ.get("GRIDGIS_RATE_USER", "3000/min"),
            "intake": os.environ.get("GRIDGIS_RATE_INTAKE", "600/min"),
            # password checks (every sign-in and password change) per client IP, and per account named
            "login": os.environ.get("GRIDGIS_RATE_LOGIN", "30/min"),
            "login_account": os.environ.get("GRIDGIS_RATE_LOGIN_ACCOUNT", "30/min"),
        }
    ),
    # Open311 GeoReport v2: the jurisdiction this server answers for.
    "OPEN311_JURISDICTION": os.environ.get("GRIDGIS_OPEN311_JURISDICTION", "luzhou.gov.cn"),
    # The sources of the cases Open311 publishes (comma-separated): by default citizens' reports only,
    # through the API or through Open311 itself; dead corners are never published.
    "OPEN311_PUBLIC_SOURCES": tuple(
        s.strip() for s in os.environ.get("GRIDGIS_OPEN311_PUBLIC_SOURCES", "citizen,open311").split(",") if s.strip()
    ),
    # reassign: cases per committed batch (interrupting loses at most one batch of work).
    "REASSIGN_BATCH": 200_000,
    # Audits (layers/audits): parts of a gap/overlap/outside_parent under this many m² are slivers,
    # counted but not listed; the levels at which each duty is expected, bound to the grid itself
    # (see layers/audits/sql.py ORPHAN).
    "AUDIT_MIN_AREA_M2": float(os.environ.get("GRIDGIS_AUDIT_MIN_AREA_M2", 50)),
    # Overlays snap to this grid in degrees (1e-7° ≈ 1 cm), so that edges digitised twice leave no noise.
    "AUDIT_SNAP_DEGREES": float(os.environ.get("GRIDGIS_AUDIT_SNAP_DEGREES", 1e-7)),
    "AUDIT_DUTY_LEVELS": {"leader": "community", "officer": "grid"},
    # Hotspots: at least CASES cases of one category within METRES m of each other in the last DAYS days,
    # clustered (ST_ClusterDBSCAN) in AUDIT_METRIC_SRID, the metric CRS of the city (CGCS2000 GK 105°E).
    "AUDIT_HOTSPOT": {"CASES": 5, "METRES": 50.0, "DAYS": 30.0},
    "AUDIT_METRIC_SRID": env_int("GRIDGIS_AUDIT_METRIC_SRID", 4544),
    # Stale: inspection points not visited, and unit grids not patrolled, in the last N days.
    "AUDIT_STALE_DAYS": float(os.environ.get("GRIDGIS_AUDIT_STALE_DAYS", 7)),
    # Quarterly assessment (考核, layers/audits/assessment.py; the rates are defined in sql.ASSESSMENT).
    # Units with fewer cases than MIN_SAMPLE are listed but not ranked; the score is 100 × the weighted
    # rates minus DEDUCTIONS points per escalation rung climbed (1 rectify, 2 expose, 3 deduct, 4 account).
    "ASSESSMENT": {
        "MIN_SAMPLE": env_int("GRIDGIS_ASSESSMENT_MIN_SAMPLE", 10),
        "NOTICE_SIZE": 5,
        "WEIGHTS": {"closure": 0.25, "on_time": 0.35, "register": 0.1, "accurate_dispatch": 0.15, "rework": 0.15},
        "DEDUCTIONS": {1: 0.0, 2: 1.0, 3: 2.0, 4: 5.0},
    },
    # Maps (maps/): the zoom of the first view when no district exists yet; the most grids one bbox
    # request returns; from which zoom case tiles carry cases instead of counts per grid; OGC API -
    # Features page sizes; tiles' Cache-Control max-age (s).
    "MAP_START_ZOOM": 12,
    "MAP_MAX_FEATURES": env_int("GRIDGIS_MAP_MAX_FEATURES", 10000),
    "CASE_TILE_POINT_ZOOM": 16,
    "OGC_DEFAULT_LIMIT": 100,
    "OGC_MAX_LIMIT": 10000,
    "TILE_MAX_AGE": 60,
}
