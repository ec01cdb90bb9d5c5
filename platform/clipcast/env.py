"""Typed readers for settings that come from the environment; a bad value fails loudly at start-up."""

from __future__ import annotations

import ipaddress
import math
import os
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name)
    if value is None:
        if default is None:
            raise ImproperlyConfigured(f"Environment variable {name} is required.")
        return default
    return value


def env_secret(name: str, default: str | None = None) -> str:
    """Read NAME, or the contents of the file named by NAME_FILE (Docker/Kubernetes secrets)."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE points at {file_name!r}, which cannot be read: {exc}") from exc
    return env_str(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean: use one of 1/0, true/false, yes/no, on/off.")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer.") from exc
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} is below the minimum {minimum}.")
    if maximum is not None and value > maximum:
        raise ImproperlyConfigured(f"{name}={value} is above the maximum {maximum}.")
    return value


def env_float(name: str, default: float, *, minimum: float | None = None) -> float:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number.") from exc
    if not math.isfinite(value):  # float() reads "nan" and "inf": never a duration or an estimate
        raise ImproperlyConfigured(f"{name}={raw!r} is not a finite number.")
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={raw} is below the minimum {minimum:g}.")
    return value


def env_choice(name: str, default: str, choices: tuple[str, ...] | list[str]) -> str:
    """One of a fixed set of words (case-insensitive); anything else fails naming the variable and the choices."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={raw!r} is not allowed: use one of {', '.join(choices)}.")
    return value


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def database_from_url(url: str) -> dict:
    """Turn sqlite:///path or postgres://user:pass@host:port/name?opt=v into a Django DATABASES entry."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    options = dict(parse_qsl(parts.query))
    if scheme == "sqlite":
        # sqlite:///relative/file and sqlite:////absolute/file, as dj-database-url reads them.
        path = unquote(parts.path)[1:]
        if not path:
            raise ImproperlyConfigured(f"DATABASE_URL {url!r} names no SQLite file.")
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": path,
            # Web, workers and beat write at the same time: WAL lets readers continue during a write,
            # IMMEDIATE takes the write lock up front so concurrent writers wait (timeout) instead of failing.
            "OPTIONS": {
                "timeout": 30,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    if scheme in {"postgres", "postgresql", "pgsql"}:
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise ImproperlyConfigured(f"DATABASE_URL {url!r} names no database.")
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "CONN_MAX_AGE": int(options.pop("conn_max_age", 60)),
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": options,
        }
    raise ImproperlyConfigured(f"DATABASE_URL scheme {scheme!r} is not supported: use sqlite:/// or postgres://.")


def env_networks(name: str) -> list[str]:
    """A comma-separated list of IP networks (CIDR) or addresses, e.g. "10.0.0.0/8,127.0.0.1"."""
    networks = env_list(name, [])
    for item in networks:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"{name} has {item!r}, which is not an IP network: use addresses or CIDRs like 10.0.0.0/8."
            ) from exc
    return networks


def cache_from_url(url: str) -> dict:
    """Turn redis://host:6379/1, locmem:// or file:///abs/dir into a Django CACHES entry."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in {"redis", "rediss"}:
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    if scheme == "locmem":
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": parts.netloc or "clipcast"}
    if scheme == "file":
        path = unquote(parts.path)
        if parts.netloc or not path.startswith("/"):
            raise ImproperlyConfigured(f"CACHE_URL {url!r} needs an absolute folder: file:///path/to/cache.")
        return {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": path}
    raise ImproperlyConfigured(
        f"CACHE_URL scheme {scheme!r} is not supported: use redis://host:6379/1, file:///path or locmem://."
    )


RESERVED_MODEL_KEYS = {
    "default": "the key 'default' is set by CLIPCAST_MODEL_PATH (a folder or a hub id): write "
               "CLIPCAST_MODEL_PATH=Lightricks/LTX-Video instead, or give this model another key.",
    "bundled": "the key 'bundled' is the model that ships with Clipcast: give this model another key.",
}


def env_models(name: str) -> dict[str, str]:
    """`key=/path/to/folder,other=Org/Name`: model keys and where each model is (a folder or a hub id)."""
    models: dict[str, str] = {}
    for item in env_list(name):
        key, sep, source = (part.strip() for part in item.partition("="))
        if not sep or not key or not source:
            raise ImproperlyConfigured(
                f"{name}: {item!r} is not key=model; write e.g. {name}=ltx=Lightricks/LTX-Video,mine=/srv/models/mine."
            )
        if len(key) > 64 or not key.replace("-", "").replace("_", "").replace(".", "").isalnum():
            raise ImproperlyConfigured(f"{name}: model key {key!r} must be at most 64 letters, digits, '-', '_' "
                                       "or '.'.")
        if key in models:
            raise ImproperlyConfigured(f"{name}: model key {key!r} is given twice; keep one.")
        if key in RESERVED_MODEL_KEYS:  # the registry sets these itself: an entry here would be ignored
            raise ImproperlyConfigured(f"{name}: {RESERVED_MODEL_KEYS[key]}")
        models[key] = source
    return models
