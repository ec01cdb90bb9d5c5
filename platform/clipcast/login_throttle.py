"""The login throttle, in one place: every password check goes through `ThrottledModelBackend`.

django.contrib.auth.authenticate() is what the dashboard login, the admin login and any later login view call,
so the throttle sits in the authentication backend rather than in a view: a new way to log in is covered
without work. Failures are counted per username and per client address in the shared cache (Redis in
production), so every web process sees the same counts; the client address is the one a trusted proxy reports.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.template.defaultfilters import pluralize
from rest_framework import throttling

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(cidrs: tuple[str, ...]) -> tuple[_Network, ...]:
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address, networks: tuple[_Network, ...]) -> bool:
    return any(address.version == net.version and address in net for net in networks)


def client_address(request: HttpRequest | None) -> str:
    """The client's address: REMOTE_ADDR, unless that peer is a trusted proxy (TRUSTED_PROXIES).

    Behind trusted proxies, X-Forwarded-For is read from the right (each proxy appends the peer it saw) and the
    first address that is not itself a trusted proxy is the client. X-Forwarded-For from any other peer is
    ignored: anyone can send that header.
    """
    if request is None:
        return ""
    remote = request.META.get("REMOTE_ADDR", "")
    networks = _networks(tuple(settings.TRUSTED_PROXIES))
    try:
        peer = ipaddress.ip_address(remote)
    except ValueError:
        return remote
    if not networks or not _trusted(peer, networks):
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    address = peer
    for hop in reversed(hops):
        try:
            address = ipaddress.ip_address(hop)
        except ValueError:
            break  # garbage from the client side of the chain: keep the last address a proxy vouched for
        if not _trusted(address, networks):
            break
    return str(address)


def locked_out_message() -> str:
    minutes = max(1, -(-settings.LOGIN_LOCKOUT_SECONDS // 60))
    return f"Too many failed logins. Wait {minutes} minute{pluralize(minutes)}, or ask an owner to reset your password."


def _keys(request: HttpRequest | None, username: str | None) -> list[str]:
    keys = [f"login-fail:user:{(username or '').strip().lower()[:150]}"]
    address = client_address(request)
    if address:
        keys.append(f"login-fail:ip:{address}")
    return keys


def is_locked_out(request: HttpRequest | None, username: str | None) -> bool:
    counts = cache.get_many(_keys(request, username))
    return any(count >= settings.LOGIN_MAX_FAILURES for count in counts.values())


def record_failure(request: HttpRequest | None, username: str | None) -> None:
    timeout = settings.LOGIN_LOCKOUT_SECONDS
    for key in _keys(request, username):
        if cache.add(key, 1, timeout=timeout):
            continue
        try:
            cache.incr(key)  # atomic on Redis, so concurrent failures on several processes all count
        except ValueError:  # expired between add() and incr()
            cache.set(key, 1, timeout=timeout)
        # The lock lasts LOGIN_LOCKOUT_SECONDS after the last failure, whatever the cache backend's incr keeps.
        cache.touch(key, timeout)


def forget_failures(username: str | None) -> None:
    cache.delete(_keys(None, username)[0])


class ThrottledModelBackend(ModelBackend):
    """Django's username/password backend, refusing to check passwords for a locked username or address."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None
        if is_locked_out(request, username):
            if request is not None:
                request.login_locked_out = True
            # authenticate() stops at PermissionDenied: no other backend gets to check the password either.
            raise PermissionDenied(locked_out_message())
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            record_failure(request, username)
        else:
            forget_failures(username)
        return user


class LockoutMessageMixin:
    """For login forms: say that the login is locked, instead of 'wrong username or password'."""

    def get_invalid_login_error(self) -> ValidationError:
        if getattr(self.request, "login_locked_out", False):
            return ValidationError(locked_out_message(), code="locked_out")
        return super().get_invalid_login_error()


class ThrottledAuthenticationForm(LockoutMessageMixin, AuthenticationForm):
    pass


class ClientAddressMixin:
    """DRF throttles key anonymous callers on the same client address as the login throttle."""

    def get_ident(self, request) -> str:
        return client_address(request)


class AnonRateThrottle(ClientAddressMixin, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(ClientAddressMixin, throttling.UserRateThrottle):
    pass
