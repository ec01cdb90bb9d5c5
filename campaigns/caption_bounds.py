"""The longest text a caption template can produce for the campaign's grid, to refuse it at save time.

A caption is rendered for a clip with the clip's variable values and `{prompt}`, the prompt its template rendered
(publishing.services.default_caption). So the worst case is taken over every prompt template whose variables the
caption can be filled from, over every combination of the values it would see.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError

from campaigns import templating
from core.xtext import nfc, weighted_length

# Above this many combinations the grid is not enumerated: each variable is bounded by its heaviest value instead
# (weighted length adds up character by character, so this is the worst case but for a URL formed across values).
MAX_ENUMERATED = 256  # parse_tweet takes about 1.5 ms a caption on a busy CPU


@dataclass(frozen=True)
class WorstCase:
    text: str
    weighted_length: int
    values: dict[str, str] = field(default_factory=dict)
    template_name: str | None = None
    exact: bool = True


def _measure(caption, values: dict[str, str], prompt: str | None) -> tuple[int, str]:
    text = nfc(caption.render({**values, "prompt": prompt or ""}))
    return weighted_length(text), text


def worst_case(caption, prompt_templates: Iterable) -> WorstCase | None:
    """The heaviest caption over the prompt templates it can serve; None when no template can fill it."""
    used = set(templating.placeholders(caption.body))
    worst: WorstCase | None = None
    for template in prompt_templates:
        declared = template.variables or {}
        if not (used - {"prompt"}) <= set(declared):
            continue  # clips of this template cannot fill this caption; scheduling says so for them
        # In the order the prompt uses them (JSONB does not keep the declared order), for a readable message.
        order = templating.placeholders(template.body) + sorted(declared)
        names = [n for n in dict.fromkeys(order) if n in declared and ("prompt" in used or n in used)]
        combos = math.prod(len(declared[n]) for n in names)
        if combos <= MAX_ENUMERATED:
            candidates = (dict(zip(names, chosen, strict=True)) for chosen in
                          itertools.product(*(declared[n] for n in names)))
            exact = True
        else:
            heaviest = {n: max(declared[n], key=lambda v: weighted_length(nfc(v))) for n in names}
            candidates, exact = iter([heaviest]), False
        for values in candidates:
            prompt = templating.render(template.body, values) if "prompt" in used else None
            length, text = _measure(caption, values, prompt)
            if worst is None or length > worst.weighted_length:
                worst = WorstCase(text, length, dict(values), template.name, exact)
    if worst is None and not used - {"prompt"}:
        length, text = _measure(caption, {}, None)
        worst = WorstCase(text, length)
    return worst


def check_caption(caption, prompt_templates: list, limit: int) -> None:
    """Refuse unknown variables and a caption that some grid value pushes over X's limit, showing that case."""
    declared = {"prompt"}
    for template in prompt_templates:
        declared.update(template.variables or {})
    templating.check_declared(caption.body, declared)
    worst = worst_case(caption, prompt_templates)
    if worst is None:
        raise ValidationError(
            f"No prompt template of this campaign declares all of "
            f"{templating.quote_names(sorted(set(templating.placeholders(caption.body)) - {'prompt'}))}: "
            "use variables of one prompt template."
        )
    if worst.weighted_length <= limit:
        return
    chosen = ", ".join(f"{n}={v}" for n, v in worst.values.items())
    where = f" with {chosen}" if chosen else ""
    if worst.template_name:
        where += f" (prompt template “{worst.template_name}”"
        where += ")" if worst.exact else "; grid too large to try every value, each variable at its longest value)"
    raise ValidationError(
        f"Caption can be {worst.weighted_length}/{limit} weighted characters{where}: “{worst.text}”. "
        f"Shorten it by {worst.weighted_length - limit} or use shorter values (emoji and CJK count 2, every URL 23)."
    )
