"""Per-row results of a Django admin action, told to the admin in one message: what was done, what was skipped and why.

Admin actions run a service on each selected row; the services make conditional updates, so a row that moved
on since the changelist was drawn is skipped rather than forced.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.contrib import admin, messages
from django.http import HttpRequest


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
