"""Per-row results of a Django admin action, told to the admin in one message: what was done, what was skipped and why.

Admin actions run a service on each selected row; the services make conditional updates, so a row that moved
on since the changelist was drawn is skipped rather than forced.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest

Row = TypeVar("Row", bound=models.Model)


class Skip(Exception):
    """Raised by an action's per-row step to skip the row with `reason`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class ActionTally:
    done: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    def skip(self, reason: str) -> None:
        self.skipped[reason] += 1

    def message(self, done_text: str, hint: str = "") -> str:
        """`done_text` is formatted with `n` and `s` (plural ending), e.g. "Cancelled {n} clip{s}"."""
        parts = [done_text.format(n=self.done, s="" if self.done == 1 else "s") + "."]
        if self.skipped:
            reasons = ", ".join(f"{count} {reason}" for reason, count in sorted(self.skipped.items()))
            parts.append(f"Skipped {sum(self.skipped.values())} ({reasons}){': ' + hint if hint else ''}.")
        return " ".join(parts)


def report(model_admin: admin.ModelAdmin, request: HttpRequest, tally: ActionTally, done_text: str,
           hint: str = "") -> None:
    level = messages.SUCCESS if tally.done and not tally.skipped else messages.WARNING
    if not tally.done and tally.skipped:
        level = messages.ERROR
    model_admin.message_user(request, tally.message(done_text, hint), level)


def status_now(row: models.Model) -> str:
    """The row's status as the database has it now (a conditional update may have lost a race)."""
    status = type(row)._default_manager.filter(pk=row.pk).values_list("status", flat=True).first()
    return status or "deleted"


def first_message(_row: models.Model, error: ValidationError) -> str:
    return error.messages[0].rstrip(".")


def tally_each(rows: Iterable[Row], step: Callable[[Row], object],
               invalid: Callable[[Row, ValidationError], str] = first_message) -> ActionTally:
    """Run `step` on each row. A truthy result is done; a falsy one (a conditional update that matched nothing)
    is skipped with the row's status now; `Skip` and `ValidationError` skip with their reason."""
    tally = ActionTally()
    for row in rows:
        try:
            done = step(row)
        except Skip as skip:
            tally.skip(skip.reason)
        except ValidationError as error:
            tally.skip(invalid(row, error))
        else:
            if done:
                tally.done += 1
            else:
                tally.skip(status_now(row))
    return tally
