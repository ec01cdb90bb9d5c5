"""reverse() for routes whose first argument is an integer id, reversed once and then filled in."""

from __future__ import annotations

from django.urls import get_script_prefix, reverse

# A page of clips needs a hundred or more of these, and reverse() costs tens of microseconds each.
_PK_SENTINEL = "2147483647"
_routes: dict[tuple[str, tuple[str, ...], str], tuple[str, str]] = {}


def reverse_pk(viewname: str, pk: int, *args: str) -> str:
    """`reverse(viewname, args=[pk, *args])`, with the route reversed once per name, other args and script prefix."""
    key = (viewname, args, get_script_prefix())
    parts = _routes.get(key)
    if parts is None:
        before, after = reverse(viewname, args=[int(_PK_SENTINEL), *args]).split(_PK_SENTINEL)
        parts = _routes[key] = (before, after)
    return f"{parts[0]}{int(pk)}{parts[1]}"
