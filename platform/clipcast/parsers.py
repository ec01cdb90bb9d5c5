"""The API's JSON parser: bad JSON of any shape is a 400, including bodies nested too deep to read."""

from __future__ import annotations

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

#: No request of ours needs more than a few levels (a grid is 3); this leaves room and refuses JSON bombs.
MAX_JSON_DEPTH = 32


def json_depth_exceeds(value: object, limit: int) -> int | None:
    """The depth reached once it passes `limit` (walked without recursion), else None."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return depth
        stack.extend((child, depth + 1) for child in children)
    return None


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            # json's C decoder gives up near Python's recursion limit (about 1,000 levels) with RecursionError,
            # which DRF does not catch: without this it is a 500.
            raise ParseError(
                f"JSON parse error - the body is nested too deep to read; the limit is {MAX_JSON_DEPTH} levels: "
                "send a flatter body."
            ) from exc
        depth = json_depth_exceeds(data, MAX_JSON_DEPTH)
        if depth is not None:
            raise ParseError(
                f"JSON parse error - the body is nested {depth} levels deep or more; the limit is "
                f"{MAX_JSON_DEPTH}: send a flatter body."
            )
        return data
