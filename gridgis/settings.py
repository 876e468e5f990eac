"""gridgis settings, read from the environment.

DATABASE_URL (postgis://user:pass@host:port/name) points at any PostGIS; without it the project's own
cluster under var/pg/ is used (see gridgis/localdb.py). DJANGO_SECRET_KEY, DJANGO_DEBUG,
DJANGO_ALLOWED_HOSTS and the DJANGO_SECURE_* variables configure a deployment (the README lists the
production environment; `make check-deploy` checks it); the defaults suit a developer's machine.
"""

import os
import re
from pathlib import Path

import dj_database_url
from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured

from gridgis import localdb
from gridgis.machine_key import machine_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)

# The key that signs sessions, CSRF tokens and password-reset links. The constant below was once the
# public default: it is refused outright with DEBUG off. Without DJANGO_SECRET_KEY, a machine on the
# project's own cluster (development, tests, `make demo`) gets a random key of its own, kept in
# var/secret_key; a deployment on another database (DATABASE_URL) with DEBUG off refuses to start.
PUBLIC_DEVELOPMENT_KEY = "gridgis-development-only-key-change-me-in-deployment"


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "").strip()
if SECRET_KEY == PUBLIC_DEVELOPMENT_KEY and not DEBUG:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY is the public development key; set a long random one")
if not SECRET_KEY:
    if os.environ.get("DATABASE_URL") and not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set: a deployment (DATABASE_URL set, DEBUG off) needs a long random "
            "key, e.g. python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    SECRET_KEY = machine_secret_key()
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework_gis",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # The background job queue (common/queue.py); its tables come with its migrations.
    "procrastinate.contrib.django",
    "common.apps.CommonConfig",
    "layers.grids.apps.GridsConfig",
    "layers.accounts.apps.AccountsConfig",
    "layers.incidents.apps.IncidentsConfig",
    "layers.inspections.apps.InspectionsConfig",
    "layers.estates.apps.EstatesConfig",
    "layers.audits.apps.AuditsConfig",
    "maps.apps.MapsConfig",
    "fixtures.apps.FixturesConfig",
    "frontend.apps.FrontendConfig",
    "citizen.apps.CitizenConfig",
    "field.apps.FieldConfig",
    "csp",
    "office.apps.OfficeConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Compresses what a client accepts compressed (the phone app's shell and data over a weak signal);
    # outermost but for security, so it also compresses WhiteNoise's static files. Django's version
    # pads its output against BREACH (CSRF tokens in pages).
    "django.middleware.gzip.GZipMiddleware",
    "common.middleware.ContentSecurityPolicyMiddleware",
    "common.middleware.RequestSizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "common.middleware.RequestScopeMiddleware",
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

if os.environ.get("DATABASE_REPLICA_URL"):
    # Before the session is read: the session row itself is read where the request reads.
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.contrib.sessions.middleware.SessionMiddleware"),
        "common.routing.ReplicaRoutingMiddleware",
    )

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
                "frontend.context_processors.screens",
            ],
        },
    },
]

# GeoDjango's PostGIS backend, made safe for server-side binding (gridgis/postgis/base.py).
DATABASE_ENGINE = "gridgis.postgis"
if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], engine=DATABASE_ENGINE)}
else:
    DATABASES = {
        "default": {
            "ENGINE": DATABASE_ENGINE,
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
EMAIL_USE_TLS = env_bool("GRIDGIS_EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("GRIDGIS_EMAIL_FROM", "gridgis@localhost")

DATABASES["default"]["CONN_MAX_AGE"] = env_int("DJANGO_CONN_MAX_AGE", 600)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True


def _prepare_threshold() -> int | None:
    value = str(os.environ.get("GRIDGIS_DB_PREPARE_THRESHOLD", 5)).strip().lower()
    if value == "off":
        return None
    if re.fullmatch(r"[0-9]+", value):
        return int(value)
    raise ImproperlyConfigured(f"GRIDGIS_DB_PREPARE_THRESHOLD={value!r}: a whole number of executions, or off")


# Parameters travel apart from the SQL (server-side binding), and psycopg prepares a statement on a
# connection once it has run there GRIDGIS_DB_PREPARE_THRESHOLD times: a repeated query is then planned
# once per connection instead of once per request (a case's detail: 17-20 -> 11-12 ms at city scale,
# docs/scaling.md). "off" for a pooler in transaction mode that cannot carry prepared statements.
DATABASE_CONNECTION_OPTIONS = {"server_side_binding": True, "prepare_threshold": _prepare_threshold()}
DATABASES["default"].setdefault("OPTIONS", {}).update(DATABASE_CONNECTION_OPTIONS)

# Read replicas (the cluster's read port, `make cluster`): read-only requests read there, everything
# else and every client that just wrote reads the primary (common/routing.py). Unset: one database.
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(os.environ["DATABASE_REPLICA_URL"], engine=DATABASE_ENGINE)
    DATABASES["replica"].setdefault("OPTIONS", {}).update(DATABASE_CONNECTION_OPTIONS)
    DATABASES["replica"].update(
        CONN_MAX_AGE=DATABASES["default"]["CONN_MAX_AGE"],
        CONN_HEALTH_CHECKS=True,
        # The test runner makes no second test database: the replica alias reads the primary's.
        TEST={"MIRROR": "default"},
    )
    DATABASE_ROUTERS = ["common.routing.PrimaryReplicaRouter"]

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

# The pages' own words are English msgids translated into zh-hans by the maps app's catalogue
# (maps/locale/zh_Hans, found as an installed app's locale/ folder; tests/test_translations.py keeps
# the compiled .mo in step with the .po); the sign-in page's come from Django's own catalogues.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
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
        "AuditFindingKindEnum": "layers.audits.models.Kind",
    },
    # Swagger UI's assets from the drf-spectacular-sidecar package, not a CDN: the docs work offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Deployment: HTTPS, cookies, headers (the README's production environment sets each) ---
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto (and strips it from clients' requests).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("DJANGO_BEHIND_TLS_PROXY", False) else None
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", False)
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp; Django 5.2 has none of its own): only the app's own scripts,
# styles, images, tiles and API, plus a basemap's host if GRIDGIS_BASEMAP names one. The folium map
# pages' inline scripts carry the request's nonce; the admin's geometry editor (Django's template, an
# inline script without a request to take a nonce from) gets 'unsafe-inline' under /admin/ only
# (common.middleware.ContentSecurityPolicyMiddleware). GRIDGIS_CSP_REPORT_ONLY=1 reports instead.
_BASEMAP_HOSTS = {
    "osm": ["https://tile.openstreetmap.org"],
    "tianditu": ["https://*.tianditu.gov.cn"],
}
_basemap = os.environ.get("GRIDGIS_BASEMAP", "none")
_tile_hosts = _BASEMAP_HOSTS.get(_basemap) or (
    ["/".join(_basemap.split("/")[:3])] if _basemap.startswith(("http://", "https://")) else []
)
_CSP = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],  # the nonce appears only on pages that use it (the maps)
        "style-src": ["'self'", "'unsafe-inline'"],  # Leaflet and folium write style attributes
        "img-src": ["'self'", "data:", "blob:", *_tile_hosts],
        "connect-src": ["'self'", *_tile_hosts],
        "font-src": ["'self'", "data:"],
        "worker-src": ["'self'", "blob:"],
        "manifest-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
if env_bool("GRIDGIS_CSP_REPORT_ONLY", False):
    CONTENT_SECURITY_POLICY_REPORT_ONLY = _CSP
else:
    CONTENT_SECURITY_POLICY = _CSP

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
    # "confirm" runs only when a dispatcher sends a report to the grid officer to confirm on site (核实).
    "DEFAULT_STAGE_HOURS": {"confirm": 4, "register": 2, "dispatch": 2, "handle": 48, "verify": 24},
    "DEFAULT_STAGE_CLOCK": {
        "confirm": "working",
        "register": "working",
        "dispatch": "working",
        "handle": "working",
        "verify": "working",
    },
    # A point closer than this to its grid's edge is flagged for the dispatcher to confirm.
    "EDGE_METRES": float(os.environ.get("GRIDGIS_EDGE_METRES", 5)),
    # A report farther than this from every district is refused as a likely swapped lon/lat or wrong srs.
    "SERVICE_AREA_KM": float(os.environ.get("GRIDGIS_SERVICE_AREA_KM", 50)),
    # "Me too": a new case within this distance of an open case of the same category reported in the
    # last DUPLICATE_DAYS days is linked to it instead of starting a second workflow.
    "DUPLICATE_METRES": float(os.environ.get("GRIDGIS_DUPLICATE_METRES", 30)),
    "DUPLICATE_DAYS": float(os.environ.get("GRIDGIS_DUPLICATE_DAYS", 3)),
    # Offline reassignment (`reassign --offline`, refused while a server accepts reports): when at least
    # this fraction of all cases change grid, the case table's plain indexes are dropped and built
    # again around the write instead of being updated row by row (layers/incidents/reassign.py; the
    # crossover measured by `make bench`). The online run never touches indexes.
    "REASSIGN_REBUILD_FRACTION": float(os.environ.get("GRIDGIS_REASSIGN_REBUILD_FRACTION", 0.4)),
    # Photos (common/photos.py): at most this many per upload, each at most PHOTO_MAX_BYTES and
    # PHOTO_MAX_PIXELS, all of one request's at most PHOTO_MAX_PIXELS_PER_REQUEST; the public copy is
    # decoded (downscaled) and stored at most PHOTO_STORED_MAX_SIDE pixels wide or high.
    "PHOTO_MAX_COUNT": 6,
    "PHOTO_MAX_BYTES": 8 * 1024 * 1024,
    "PHOTO_MAX_PIXELS": 40_000_000,
    "PHOTO_MAX_PIXELS_PER_REQUEST": env_int("GRIDGIS_PHOTO_MAX_PIXELS_PER_REQUEST", 60_000_000),
    "PHOTO_STORED_MAX_SIDE": env_int("GRIDGIS_PHOTO_STORED_MAX_SIDE", 2560),
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
    # Office work lists (layers/incidents/worklist.py): cases per page, and how close to its stage's
    # deadline a case counts as "due soon" (hours).
    "WORKLIST_PAGE_SIZE": 50,
    "DUE_SOON_HOURS": float(os.environ.get("GRIDGIS_DUE_SOON_HOURS", 4)),
    # A bulk action (one workflow step on a selection of cases) takes at most this many cases.
    "BULK_MAX_CASES": 200,
    # Likely duplicates shown beside a case: open cases of its category this near and this recent.
    "LIKELY_DUPLICATE_METRES": 150.0,
    "LIKELY_DUPLICATE_DAYS": 7,
    "CASE_MAX_PAGE_SIZE": 1000,
    # --- Limits on client input (common/geometry.py, common/listing.py, common/throttling.py) ---
    # JSON bodies: at most this many levels of nested objects and arrays (GeoJSON needs about 7).
    "MAX_JSON_DEPTH": env_int("GRIDGIS_MAX_JSON_DEPTH", 32),
    # Geometry input: at most this many vertices in one geometry.
    "MAX_VERTICES": env_int("GRIDGIS_MAX_VERTICES", 10_000),
    # Geometry input (footprints, tracks, pipes, any geometry a client sends) and the planner overlay:
    # the geometry's bounding box may cover at most this many km² (a district's urban core is ~300).
    "MAX_GEOMETRY_KM2": float(os.environ.get("GRIDGIS_MAX_GEOMETRY_KM2", 400)),
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
        {
            "ip": None,
            "user": None,
            "intake": None,
            "login": None,
            "login_account": None,
            "lookup": None,
            "photo_megapixels": None,
        }
        if os.environ.get("GRIDGIS_THROTTLE", "on").lower() in {"off", "0", "false"}
        else {
            "ip": os.environ.get("GRIDGIS_RATE_IP", "1200/min"),
            "user": os.environ.get("GRIDGIS_RATE_USER", "3000/min"),
            "intake": os.environ.get("GRIDGIS_RATE_INTAKE", "600/min"),
            # password checks (every sign-in and password change) per client IP, and per account named
            "login": os.environ.get("GRIDGIS_RATE_LOGIN", "30/min"),
            "login_account": os.environ.get("GRIDGIS_RATE_LOGIN_ACCOUNT", "30/min"),
            # the citizen page's public lookups (place search, receiver, nearby reports) per client IP
            "lookup": os.environ.get("GRIDGIS_RATE_LOOKUP", "120/min"),
            # megapixels of photos decoded per client (user, or IP): the CPU photos cost
            "photo_megapixels": os.environ.get("GRIDGIS_RATE_PHOTO_MEGAPIXELS", "400/min"),
        }
    ),
    # The password of the demo accounts seed_demo makes (public in the README: demo only).
    "DEMO_PASSWORD": os.environ.get("GRIDGIS_DEMO_PASSWORD", "gridgis-demo"),
    # Open311 GeoReport v2: the jurisdiction this server answers for.
    "OPEN311_JURISDICTION": os.environ.get("GRIDGIS_OPEN311_JURISDICTION", "luzhou.gov.cn"),
    # The sources of the cases Open311 publishes (comma-separated): by default citizens' reports only,
    # through the API or through Open311 itself; dead corners are never published.
    "OPEN311_PUBLIC_SOURCES": tuple(
        s.strip() for s in os.environ.get("GRIDGIS_OPEN311_PUBLIC_SOURCES", "citizen,open311").split(",") if s.strip()
    ),
    # Online reassignment (layers/incidents/reassign.py): cases written per batch, each batch its own
    # transaction (its rows stay locked that long: ~0.1 s at city scale); how long a batch waits for a
    # row another transaction holds before it gives up and is tried again, and how many times. Writers:
    # how many connections write at once, each its own run of case ids.
    "REASSIGN_BATCH_CASES": env_int("GRIDGIS_REASSIGN_BATCH_CASES", 2000),
    "REASSIGN_WRITERS": env_int("GRIDGIS_REASSIGN_WRITERS", 1),
    "REASSIGN_LOCK_TIMEOUT_MS": env_int("GRIDGIS_REASSIGN_LOCK_TIMEOUT_MS", 200),
    "REASSIGN_LOCK_RETRIES": env_int("GRIDGIS_REASSIGN_LOCK_RETRIES", 300),
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
    # The officer's phone app (field/): a session opened there lasts a shift; photos are shrunk on the
    # phone to at most PHOTO_MAX_SIDE_PX on their longer side; the patrol recorder drops fixes less
    # accurate than MAX_ACCURACY_M or implying more than MAX_SPEED_MPS (no walker reaches 8 m/s), and
    # a stretch of GAP_SECONDS with no fix (screen locked, tunnel) ends the track's segment.
    "FIELD": {
        "SESSION_HOURS": float(os.environ.get("GRIDGIS_FIELD_SESSION_HOURS", 12)),
        "PHOTO_MAX_SIDE_PX": 2048,
        "MAX_ACCURACY_M": float(os.environ.get("GRIDGIS_FIELD_MAX_ACCURACY_M", 50)),
        "MAX_SPEED_MPS": float(os.environ.get("GRIDGIS_FIELD_MAX_SPEED_MPS", 8)),
        "GAP_SECONDS": float(os.environ.get("GRIDGIS_FIELD_GAP_SECONDS", 45)),
    },
    # Reads on replicas (common/routing.py, only with DATABASE_REPLICA_URL): a client that wrote reads
    # the primary for this long; a replica further behind than MAX_LAG_SECONDS is not read (its lag
    # asked at most every LAG_CHECK_SECONDS per process); the shared cache that keeps the marks;
    # SAY_WHERE adds the response header X-Gridgis-Reads-From (primary|replica).
    "REPLICA": {
        "READ_YOUR_WRITES_SECONDS": float(os.environ.get("GRIDGIS_READ_YOUR_WRITES_SECONDS", 5)),
        "MAX_LAG_SECONDS": float(os.environ.get("GRIDGIS_REPLICA_MAX_LAG_SECONDS", 1)),
        "LAG_CHECK_SECONDS": float(os.environ.get("GRIDGIS_REPLICA_LAG_CHECK_SECONDS", 1)),
        "CACHE": "throttle",
        "SAY_WHERE": env_bool("GRIDGIS_SAY_READS_FROM", False),
    },
    # The background job queue (common/queue.py, `manage.py worker`): jobs at once per worker; how often
    # a worker says it is alive, after how long silent its jobs count as left by a dead worker and are
    # put back (checked by every worker on STALLED_SWEEP_CRON, with seconds); how long a stopping
    # worker lets its jobs finish.
    "QUEUE": {
        "CONCURRENCY": env_int("GRIDGIS_QUEUE_CONCURRENCY", 2),
        "HEARTBEAT_SECONDS": float(os.environ.get("GRIDGIS_QUEUE_HEARTBEAT_SECONDS", 10)),
        "STALLED_SECONDS": float(os.environ.get("GRIDGIS_QUEUE_STALLED_SECONDS", 30)),
        "STALLED_SWEEP_CRON": os.environ.get("GRIDGIS_QUEUE_STALLED_SWEEP_CRON", "* * * * * */15"),
        "SHUTDOWN_SECONDS": float(os.environ.get("GRIDGIS_QUEUE_SHUTDOWN_SECONDS", 30)),
        # Escalation climbs the ladder on this schedule (it is idempotent; manage.py escalate does the same).
        "ESCALATE_CRON": os.environ.get("GRIDGIS_ESCALATE_CRON", "* * * * *"),
        # The per-grid case counts behind low-zoom tiles are rebuilt on this schedule.
        "CASE_COUNTS_CRON": os.environ.get("GRIDGIS_CASE_COUNTS_CRON", "*/5 * * * *"),
        # The leader's dashboard's rates (this quarter's and the last's, per grid) are kept on this schedule.
        "DASHBOARD_RATES_CRON": os.environ.get("GRIDGIS_DASHBOARD_RATES_CRON", "*/5 * * * *"),
        # The dashboard's patrol coverage this week (per grid, every level) is kept on this schedule.
        "PATROL_COVERAGE_CRON": os.environ.get("GRIDGIS_PATROL_COVERAGE_CRON", "*/15 * * * *"),
        # Notifications (e-mail, webhooks) due in the outbox are sent on this schedule (seconds field).
        "NOTIFY_CRON": os.environ.get("GRIDGIS_NOTIFY_CRON", "* * * * * */10"),
        # Idempotency-Keys older than IDEMPOTENCY_KEY_DAYS are deleted on this schedule.
        "IDEMPOTENCY_PURGE_CRON": os.environ.get("GRIDGIS_IDEMPOTENCY_PURGE_CRON", "23 * * * *"),
    },
}
