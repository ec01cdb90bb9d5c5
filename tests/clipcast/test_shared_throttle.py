"""The login throttle counts in the shared cache (Redis under test, CACHE_URL) and keys on the client address
reported by a trusted proxy: several web processes agree, and X-Forwarded-For from anyone else is ignored."""

from __future__ import annotations

import socket
import subprocess
import time
import uuid

import pytest
import requests
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from clipcast.env import cache_from_url
from clipcast.login_throttle import client_address
from tests.conftest import ROOT, VENV_BIN, child_env
from tests.factories import UserFactory

PASSWORD = "pw-correct-horse-42"


def request_from(peer: str, forwarded: str | None = None):
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=peer, **extra)


def test_forwarded_for_from_an_untrusted_peer_is_ignored(settings):
    settings.TRUSTED_PROXIES = []
    assert client_address(request_from("203.0.113.5", "198.51.100.1")) == "203.0.113.5"
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_address(request_from("203.0.113.5", "198.51.100.1")) == "203.0.113.5"


def test_behind_trusted_proxies_the_client_is_the_first_untrusted_hop_from_the_right(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "127.0.0.1"]
    # The client forged the leftmost entry; the proxies appended what they saw.
    assert client_address(request_from("127.0.0.1", "1.2.3.4, 198.51.100.9, 10.1.2.3")) == "198.51.100.9"
    assert client_address(request_from("10.0.0.1", "198.51.100.9")) == "198.51.100.9"
    assert client_address(request_from("10.0.0.1", "")) == "10.0.0.1"
    assert client_address(request_from("10.0.0.1", "not-an-ip, 10.0.0.2")) == "10.0.0.2"
    assert client_address(request_from("10.0.0.1", "2001:db8::1")) == "2001:db8::1"


def test_cache_url_picks_the_backend_and_refuses_unknown_schemes():
    assert cache_from_url("redis://127.0.0.1:6379/1")["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert cache_from_url("locmem://")["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    assert cache_from_url("file:///srv/cache") == {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": "/srv/cache"}
    with pytest.raises(ImproperlyConfigured, match="absolute folder"):
        cache_from_url("file://var/cache")
    with pytest.raises(ImproperlyConfigured, match="memcached"):
        cache_from_url("memcached://127.0.0.1:11211")


def test_tests_count_in_redis(settings):
    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"


@pytest.mark.django_db
def test_clients_behind_a_trusted_proxy_are_throttled_one_by_one(client, settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    settings.LOGIN_MAX_FAILURES = 3
    UserFactory(username="innocent")
    for n in range(3):
        client.post("/login/", {"username": f"guess{n}", "password": "x"}, HTTP_X_FORWARDED_FOR="198.51.100.66")

    assert client.post("/login/", {"username": "guess9", "password": "x"},
                       HTTP_X_FORWARDED_FOR="198.51.100.66").status_code == 429
    response = client.post("/login/", {"username": "innocent", "password": PASSWORD},
                           HTTP_X_FORWARDED_FOR="198.51.100.77")
    assert response.status_code == 302


@pytest.mark.django_db
def test_a_forged_forwarded_for_does_not_escape_the_address_lock(client, settings):
    settings.TRUSTED_PROXIES = []
    settings.LOGIN_MAX_FAILURES = 3
    UserFactory(username="victim")
    for n in range(3):
        client.post("/login/", {"username": f"guess{n}", "password": "x"}, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")

    response = client.post("/login/", {"username": "victim", "password": PASSWORD}, HTTP_X_FORWARDED_FOR="192.0.2.99")
    assert response.status_code == 429


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def two_web_processes(django_db_setup, django_db_blocker, tmp_path_factory):
    """Two `runserver` processes on the test database and the test cache (Redis), as two web workers would be."""
    logs = tmp_path_factory.mktemp("web")
    procs, urls = [], []
    with django_db_blocker.unblock():
        env = child_env(LOGIN_MAX_FAILURES="4")
    env.pop("TRUSTED_PROXIES", None)
    for n in range(2):
        port = free_port()
        log = open(logs / f"web{n}.log", "ab")  # noqa: SIM115 - the process owns it until the end
        procs.append(subprocess.Popen(
            [str(VENV_BIN / "python"), "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        ))
        urls.append(f"http://127.0.0.1:{port}/")
    deadline = time.monotonic() + 120
    for url, proc in zip(urls, procs, strict=True):
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"runserver did not start:\n{(logs / 'web0.log').read_text()[-3000:]}")
            try:
                requests.get(url + "healthz", timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.3)
    yield urls
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=30)


def attempt(url: str, username: str, password: str, forwarded: str | None = None) -> requests.Response:
    session = requests.Session()
    session.get(url + "login/", timeout=20)
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    return session.post(url + "login/", data={"username": username, "password": password,
                                              "csrfmiddlewaretoken": session.cookies["csrftoken"]},
                        headers=headers, allow_redirects=False, timeout=20)


@pytest.mark.integration
def test_two_web_processes_share_one_count_per_username(two_web_processes, transactional_db):
    first, second = two_web_processes
    name = f"shared-{uuid.uuid4().hex[:8]}"
    UserFactory(username=name)
    cache.delete("login-fail:ip:127.0.0.1")
    for url in (first, second, first, second):
        assert attempt(url, name, "wrong").status_code == 200

    # The count lives in Redis, where this (third) process reads it, and both servers refuse the right password.
    assert cache.get(f"login-fail:user:{name}") == 4
    assert attempt(first, name, PASSWORD).status_code == 429
    assert attempt(second, name, PASSWORD).status_code == 429


@pytest.mark.integration
def test_two_web_processes_share_the_address_count_and_ignore_forged_forwarded_for(two_web_processes,
                                                                                 transactional_db):
    first, second = two_web_processes
    cache.delete("login-fail:ip:127.0.0.1")
    name = f"target-{uuid.uuid4().hex[:8]}"
    UserFactory(username=name)
    for n, url in enumerate((first, second, first, second)):
        attempt(url, f"nobody-{n}-{uuid.uuid4().hex[:6]}", "wrong", forwarded=f"192.0.2.{n}")

    assert cache.get("login-fail:ip:127.0.0.1") == 4
    assert attempt(second, name, PASSWORD, forwarded="192.0.2.200").status_code == 429


def test_api_throttles_key_anonymous_callers_on_the_same_client_address(settings):
    from clipcast.login_throttle import AnonRateThrottle

    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert AnonRateThrottle().get_ident(request_from("10.0.0.1", "198.51.100.4")) == "198.51.100.4"
    assert AnonRateThrottle().get_ident(request_from("203.0.113.1", "198.51.100.4")) == "203.0.113.1"
