"""The audit log, written once for every app: `record` an action on an object, in the transaction of the change.

Who acted comes from the request being served (`AuditActorMiddleware` keeps it for the request's duration), so
services record without every caller passing the user along; background work (publishing, render workers) has no
request and is recorded as the system. `changes` maps each changed field to [before, after]; a secret field
(encrypted, or named like a token, secret, password or key) shows only that it changed, never its value.
"""

from __future__ import annotations

import contextvars
import datetime
import decimal
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from django.db import models, router, transaction
from django.http import HttpRequest, HttpResponse

from accounts.models import AuditEvent, workspace_id_of
from core.fields import EncryptedTextField

REDACTED = "[redacted]"
SYSTEM = "system"
SECRET_NAME = re.compile(r"token|secret|password|passwd|api_?key|private_?key|signing_?key|credential", re.I)
# Bookkeeping every save touches: a change to it alone is no change anybody made.
NOT_CHANGES = {"updated_at", "created_at"}

_UNSET: Any = object()
_actor: contextvars.ContextVar[Any] = contextvars.ContextVar("audit_actor", default=None)

M = TypeVar("M", bound=models.Model)


def is_secret(field: models.Field) -> bool:
    return isinstance(field, EncryptedTextField) or bool(SECRET_NAME.search(field.name))


def _plain(value: Any) -> Any:
    """A JSON-ready form of a field value (dates as ISO text, durations in seconds)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if isinstance(value, models.Model):
        return value.pk
    return str(value)


class _Secret:
    """A secret's value inside a snapshot: compared, so a new token shows as a change, but never written out."""

    __slots__ = ("_value",)

    def __init__(self, value: Any) -> None:
        self._value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __repr__(self) -> str:
        return REDACTED


def snapshot(obj: models.Model | None) -> dict[str, Any]:
    """The object's stored fields (foreign keys as ids); secrets are held so `diff` can tell that they changed,
    and come out of `diff` redacted. {} for no object."""
    if obj is None:
        return {}
    values = {}
    for field in obj._meta.concrete_fields:
        if field.primary_key or field.name in NOT_CHANGES:
            continue
        value = getattr(obj, field.attname)
        values[field.name] = _Secret(value) if is_secret(field) and value not in (None, "") else _plain(value)
    return values


def _shown(value: Any) -> Any:
    return REDACTED if isinstance(value, _Secret) else value


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [before, after]} for the fields whose values differ (a missing side reads as None); secrets read
    as "[redacted]"."""
    return {
        name: [_shown(before.get(name)), _shown(after.get(name))]
        for name in sorted(before.keys() | after.keys())
        if before.get(name) != after.get(name)
    }


def stored(obj: models.Model) -> models.Model | None:
    """The object as the database has it now (a bound form has already written its new values on `obj`)."""
    if obj.pk is None:
        return None
    return type(obj)._base_manager.filter(pk=obj.pk).first()


def redacted(changes: dict[str, Any], model: type[models.Model] | None = None) -> dict[str, Any]:
    """Changes a service passes by hand get the same protection as snapshots: secret names never carry values."""
    secret_fields = {f.name for f in model._meta.concrete_fields if is_secret(f)} if model else set()
    safe = {}
    for name, value in changes.items():
        if name in secret_fields or SECRET_NAME.search(name):
            sides = value if isinstance(value, list | tuple) and len(value) == 2 else [value, value]
            safe[name] = [side if side in (None, "") else REDACTED for side in sides]
        elif isinstance(value, list | tuple) and len(value) == 2:
            safe[name] = [_plain(value[0]), _plain(value[1])]
        else:
            safe[name] = _plain(value)
    return safe


def current_actor() -> Any:
    """The user behind the change being made: the request's user, or None for the system."""
    actor = _actor.get()
    if isinstance(actor, HttpRequest):  # DRF authenticates after the middleware ran: read the user late
        actor = getattr(actor, "user", None)
    return actor if getattr(actor, "is_authenticated", False) else None


@contextmanager
def acting_as(actor: Any) -> Iterator[None]:
    """Record changes made inside the block as `actor`'s (a user, or None for the system)."""
    token = _actor.set(actor)
    try:
        yield
    finally:
        _actor.reset(token)


class AuditActorMiddleware:
    """Keeps the request being served where `record` finds its user."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with acting_as(request):
            return self.get_response(request)


def _event(action: str, obj: models.Model, changes: dict[str, Any] | None, actor: Any) -> AuditEvent:
    actor = current_actor() if actor is _UNSET else actor
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return AuditEvent(
        workspace_id=workspace_id_of(obj), actor=actor, actor_name=actor.get_username() if actor else SYSTEM,
        action=action, object_type=obj._meta.label_lower, object_id=str(obj.pk), object_repr=str(obj)[:200],
        changes=redacted(changes or {}, type(obj)),
    )


def record(action: str, obj: models.Model, changes: dict[str, Any] | None = None, *, actor: Any = _UNSET) -> AuditEvent:
    """Append one event for `action` on `obj`. Call it inside the atomic block that makes the change, so a change
    rolled back leaves no event and an event never describes a change that did not happen."""
    _require_transaction()
    event = _event(action, obj, changes, actor)
    event.save()
    return event


def record_many(action: str, objects: list[models.Model], changes: Callable[[models.Model], dict] | None = None,
                *, actor: Any = _UNSET) -> list[AuditEvent]:
    """One event per object, written in one statement (a batch of clips, the posts an archive cancels)."""
    _require_transaction()
    events = [_event(action, obj, changes(obj) if changes else None, actor) for obj in objects]
    return AuditEvent.objects.bulk_create(events)


def _require_transaction() -> None:
    # Outside a transaction the event would commit on its own, and a change that then failed would still be logged.
    if not transaction.get_connection(router.db_for_write(AuditEvent)).in_atomic_block:
        raise RuntimeError("audit.record runs inside the transaction of the change it records: wrap the change and "
                           "the record in transaction.atomic().")


def created(obj: models.Model) -> dict[str, list[Any]]:
    return diff({}, snapshot(obj))


def audited_save(instance: M | None, save: Callable[[], M], *, action: str | None = None,
                 actor: Any = _UNSET) -> M:
    """Save through `save` (a form's or serializer's) and record it: "created" with every field, or "updated" with
    the fields that changed from what was stored (nothing recorded when nothing changed)."""
    with transaction.atomic():
        before = stored(instance) if instance is not None else None
        saved = save()
        changes = diff(snapshot(before), snapshot(saved))
        if before is None or changes:
            record(action or ("created" if before is None else "updated"), saved, changes, actor=actor)
    return saved


def audited_delete(instance: models.Model, *, action: str = "deleted", actor: Any = _UNSET) -> None:
    """Delete and record it; the event keeps the object's last values (its id lives on in object_id)."""
    with transaction.atomic():
        record(action, instance, diff(snapshot(instance), {}), actor=actor)
        instance.delete()
