"""Every password check goes through one throttle (layers/accounts/passwords.py); API tokens expire,
rotate at sign-in and are revoked by a password change; new passwords meet the validators.

The throttle test walks the URL conf: every endpoint that hashes a password when posted to (found by
counting the hasher's work, not from a list) must refuse the attempt over the rate before hashing.
"""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import MD5PasswordHasher
from django.test import Client
from django.urls import get_resolver
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery-42"


class CountingHasher(MD5PasswordHasher):
    """A fast hasher that counts how often a password is hashed (checked or set)."""

    algorithm = "counting_md5"
    hashed = 0

    def encode(self, password, salt):
        CountingHasher.hashed += 1
        return super().encode(password, salt)  # MD5's format, under this algorithm's name


@pytest.fixture
def counted(settings):
    settings.PASSWORD_HASHERS = ["tests.test_passwords.CountingHasher"]
    settings.GRIDGIS = {
        **settings.GRIDGIS,
        "THROTTLE_RATES": {"ip": None, "user": None, "intake": None, "login": "2/min", "login_account": "2/min"},
    }


def make_admin():
    user = get_user_model().objects.create_superuser("root", password=PASSWORD)
    return user


def plain_routes():
    """Every URL of the URL conf that takes no parameter, as a path."""
    found = []

    def walk(patterns, prefix=""):
        for pattern in patterns:
            text = str(pattern.pattern).removeprefix("^").removesuffix("$")
            if hasattr(pattern, "url_patterns"):
                walk(pattern.url_patterns, prefix + text)
            elif "<" not in text and "(" not in text and "\\" not in text:
                found.append("/" + prefix + text)

    walk(get_resolver().url_patterns)
    return sorted(set(found))


GUESS = {
    "username": "root",
    "password": "wrong-guess",
    "old_password": "wrong-guess",
    "new_password": "Another-long-pass-77",
    "new_password1": "Another-long-pass-77",
    "new_password2": "Another-long-pass-77",
}


def test_every_endpoint_that_checks_a_password_is_throttled_before_hashing(counted):
    from django.core.cache import caches

    make_admin()
    checking = []
    routes = plain_routes()
    assert "/admin/login/" in routes and "/api/v1/auth/token/" in routes
    for signed_in in (False, True):
        for path in routes:
            caches["throttle"].clear()
            client = Client()
            if signed_in:
                assert client.login(username="root", password=PASSWORD)
            caches["throttle"].clear()
            CountingHasher.hashed = 0
            answers = [client.post(path, GUESS) for _ in range(2)]
            if CountingHasher.hashed == 0:
                continue  # this endpoint checks no password
            checking.append(path)
            before = CountingHasher.hashed
            third = client.post(path, GUESS)
            assert third.status_code == 429, (path, signed_in, [a.status_code for a in answers], third.status_code)
            assert third["Retry-After"]
            assert CountingHasher.hashed == before, f"{path} hashed a password over the rate"
    # Admin sign-in, web sign-in, token sign-in, and the three ways to change one's password.
    assert set(checking) >= {
        "/admin/login/",
        "/accounts/login/",
        "/api/v1/auth/token/",
        "/admin/password_change/",
        "/accounts/password_change/",
        "/api/v1/auth/password/",
    }, checking


def test_one_account_guessed_from_many_addresses_is_throttled_too(counted):
    make_admin()
    answers = [
        Client(REMOTE_ADDR=f"10.0.0.{n}").post("/accounts/login/", {"username": "root", "password": "x"}).status_code
        for n in range(3)
    ]
    assert answers == [200, 200, 429]


def sign_in(api, password=PASSWORD):
    return api.post("/api/v1/auth/token/", {"username": "root", "password": password}, format="json")


def test_a_token_expires_after_its_lifetime(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    make_admin()
    api = APIClient()
    token = sign_in(api).json()["token"]
    assert api.get("/api/v1/auth/me/", headers={"Authorization": f"Token {token}"}).status_code == 200
    Token.objects.filter(key=token).update(
        created=timezone.now() - datetime.timedelta(hours=settings.GRIDGIS["TOKEN_LIFETIME_HOURS"] + 1)
    )
    expired = api.get("/api/v1/auth/me/", headers={"Authorization": f"Token {token}"})
    assert expired.status_code == 401 and "expired" in expired.json()["detail"]
    assert not Token.objects.filter(key=token).exists()


def test_each_sign_in_rotates_the_token(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    make_admin()
    api = APIClient()
    first = sign_in(api).json()["token"]
    second = sign_in(api).json()["token"]
    assert first != second
    assert api.get("/api/v1/auth/me/", headers={"Authorization": f"Token {first}"}).status_code == 401
    assert api.get("/api/v1/auth/me/", headers={"Authorization": f"Token {second}"}).status_code == 200


def test_a_password_change_revokes_tokens_and_checks_the_validators(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    user = make_admin()
    api = APIClient()
    token = sign_in(api).json()["token"]
    auth = {"Authorization": f"Token {token}"}
    weak = api.post("/api/v1/auth/password/", {"old_password": PASSWORD, "new_password": "12345"}, headers=auth)
    assert weak.status_code == 400 and weak.json()["detail"].startswith("new_password:")
    wrong = api.post(
        "/api/v1/auth/password/", {"old_password": "nope", "new_password": "Another-long-pass-77"}, headers=auth
    )
    assert wrong.status_code == 400 and wrong.json()["detail"].startswith("old_password:")
    changed = api.post(
        "/api/v1/auth/password/", {"old_password": PASSWORD, "new_password": "Another-long-pass-77"}, headers=auth
    )
    assert changed.status_code == 200, changed.json()
    assert api.get("/api/v1/auth/me/", headers=auth).status_code == 401  # the old token is revoked
    fresh = {"Authorization": f"Token {changed.json()['token']}"}
    assert api.get("/api/v1/auth/me/", headers=fresh).status_code == 200
    # Any other way to change it (the admin, manage.py changepassword) revokes the tokens as well.
    user.refresh_from_db()
    user.set_password("Yet-another-pass-88")
    user.save()
    assert not Token.objects.filter(user=user).exists()


def test_password_validators_are_configured(settings):
    names = {v["NAME"].rsplit(".", 1)[-1] for v in settings.AUTH_PASSWORD_VALIDATORS}
    assert {"MinimumLengthValidator", "CommonPasswordValidator", "NumericPasswordValidator"} <= names
