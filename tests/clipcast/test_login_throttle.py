"""One login throttle for every way in (dashboard, admin, any future view calling authenticate()), keyed on the
username and on the client address a trusted proxy reports, counted in the shared cache."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import authenticate
from django.core.cache import cache
from django.test import RequestFactory

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pw-correct-horse-42"


def test_wrong_passwords_on_the_admin_login_lock_the_account_there_too(client, settings):
    settings.LOGIN_MAX_FAILURES = 5
    UserFactory(username="boss", is_staff=True, is_superuser=True)

    for _ in range(30):
        client.post("/admin/login/", {"username": "boss", "password": "wrong", "next": "/admin/"})
    response = client.post("/admin/login/", {"username": "boss", "password": PASSWORD, "next": "/admin/"})

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert "Too many failed logins" in response.content.decode()


def test_failures_on_the_admin_login_count_against_the_dashboard_login(client, settings):
    settings.LOGIN_MAX_FAILURES = 3
    UserFactory(username="target")

    for _ in range(3):
        client.post("/admin/login/", {"username": "target", "password": "wrong", "next": "/admin/"})
    response = client.post("/login/", {"username": "target", "password": PASSWORD})

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_any_caller_of_authenticate_is_throttled(settings):
    """A login view added later goes through django.contrib.auth.authenticate, so it is covered without work."""
    settings.LOGIN_MAX_FAILURES = 3
    user = UserFactory(username="someone")
    request = RequestFactory().post("/some/future/login/", REMOTE_ADDR="198.51.100.7")

    for _ in range(3):
        assert authenticate(request, username="someone", password="wrong") is None
    assert authenticate(request, username="someone", password=PASSWORD) is None
    cache.clear()
    assert authenticate(request, username="someone", password=PASSWORD) == user


def test_a_successful_login_forgets_the_usernames_earlier_failures(settings):
    settings.LOGIN_MAX_FAILURES = 3
    UserFactory(username="forgetful")
    request = RequestFactory().post("/login/", REMOTE_ADDR="198.51.100.8")

    for _ in range(2):
        authenticate(request, username="forgetful", password="wrong")
    assert authenticate(request, username="forgetful", password=PASSWORD) is not None
    other = RequestFactory().post("/login/", REMOTE_ADDR="198.51.100.9")
    for _ in range(2):
        authenticate(other, username="forgetful", password="wrong")
    assert authenticate(other, username="forgetful", password=PASSWORD) is not None


def test_the_demo_marketer_is_not_staff(db):
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    call_command("seed_demo", password="demo-password-1", stdout=io.StringIO())

    users = get_user_model().objects
    assert not users.get(username="marketer").is_staff
    assert users.get(username="admin").is_superuser and users.get(username="admin").is_staff
