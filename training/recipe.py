"""A training recipe: train.py's stage settings as data, read from training/recipes/*.toml.

The default recipe is complete and is what `make train-model` trains; another recipe file is read over it and
lists only what it changes. A run changes single settings with `--set key=value` (lists comma-separated) or,
the same thing, `--key value [value ...]` (a bare `--key` sets a true/false setting to true), so the commands
in MODEL_CARD.md and TRAINING_LOG.md still run as typed.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

RECIPES = Path(__file__).resolve().parent / "recipes"
DEFAULT_RECIPE = RECIPES / "default.toml"
AUTO = "auto"
# Settings whose "auto" train.py resolves by the run's start (from scratch or from a released folder).
AUTO_SETTINGS = frozenset({"steps", "finetune_steps", "unet_steps", "stage3_keeps"})
CHOICES = {"stage3_keeps": ("best", "last")}
# Lists with a fixed number of entries.
LENGTHS = {"unet_channels": (2,), "shape_mix": (0, 3)}
_TRUE, _FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off"}
_KIND_NAMES = {int: "whole number", float: "number", str: "text", bool: "true or false"}
_WHERE = "training/recipes/default.toml"


class RecipeError(ValueError):
    """A recipe file or override names an unknown setting or gives it a value of the wrong kind."""


def read_recipe(path: Path | None = None) -> dict[str, Any]:
    """The default recipe, with `path`'s settings (if given) read over it."""
    recipe = _read(DEFAULT_RECIPE)
    if path is not None:
        for key, value in _read(Path(path)).items():
            recipe[key] = _checked(key, value, recipe, f"{path}: ")
    return recipe


def override(recipe: dict[str, Any], key: str, values: Sequence[str]) -> None:
    """Set `key` from command-line text: one value, several for a list, none for a true/false setting."""
    key = key.replace("-", "_")
    if key not in recipe:
        raise RecipeError(f"unknown recipe setting {key!r}: the settings are the keys of {_WHERE}")
    default = _read(DEFAULT_RECIPE)[key]
    if isinstance(default, list):
        kind = type(default[0]) if default else float
        value: Any = [_parse(key, text, kind) for text in values]
    elif isinstance(default, bool) and not values:
        value = True
    elif len(values) != 1:
        raise RecipeError(f"recipe setting {key!r} takes one value, got {len(values)}: {' '.join(values) or '(none)'}")
    elif key in AUTO_SETTINGS and values[0] == AUTO:
        value = AUTO
    else:
        value = _parse(key, values[0], int if key in AUTO_SETTINGS and key != "stage3_keeps" else type(default))
    recipe[key] = _checked(key, value, recipe, "")


def overrides_from_flags(tokens: Sequence[str]) -> list[tuple[str, list[str]]]:
    """`--key v1 v2 --flag --other=v` as (key, values) pairs, in order."""
    pairs: list[tuple[str, list[str]]] = []
    for token in tokens:
        if token.startswith("--") and len(token) > 2:
            key, sep, value = token[2:].partition("=")
            pairs.append((key, [value] if sep else []))
        elif pairs:
            pairs[-1][1].append(token)
        else:
            raise RecipeError(f"unexpected argument {token!r}: recipe settings are given as --key value or --set")
    return pairs


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except OSError as exc:
        raise RecipeError(f"cannot read recipe {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise RecipeError(f"recipe {path} is not valid TOML: {exc}") from exc


def _parse(key: str, text: str, kind: type) -> Any:
    lowered = text.strip().lower()
    if kind is bool:
        if lowered in _TRUE | _FALSE:
            return lowered in _TRUE
        raise RecipeError(f"recipe setting {key!r} is true or false, got {text!r}")
    try:
        return kind(text.strip())
    except ValueError:
        raise RecipeError(f"recipe setting {key!r} needs a {_KIND_NAMES[kind]}, got {text!r}") from None


def _checked(key: str, value: Any, recipe: dict[str, Any], where: str) -> Any:
    if key not in recipe:
        raise RecipeError(f"{where}unknown recipe setting {key!r}: the settings are the keys of {_WHERE}")
    default = _read(DEFAULT_RECIPE)[key]
    if key in AUTO_SETTINGS and value == AUTO:
        return value
    if key in CHOICES:
        if value not in CHOICES[key]:
            allowed = ", ".join((*CHOICES[key], AUTO))
            raise RecipeError(f"{where}recipe setting {key!r} is one of {allowed}, got {value!r}")
        return value
    if isinstance(default, list):
        kind = type(default[0]) if default else float
        if not isinstance(value, list) or not all(_fits(item, kind) for item in value):
            raise RecipeError(f"{where}recipe setting {key!r} is a list of numbers like {default}, got {value!r}")
        if key in LENGTHS and len(value) not in LENGTHS[key]:
            sizes = " or ".join(str(n) for n in LENGTHS[key])
            raise RecipeError(f"{where}recipe setting {key!r} takes {sizes} values, got {len(value)}")
        return [kind(item) for item in value]
    kind = int if key in AUTO_SETTINGS else type(default)
    if not _fits(value, kind):
        raise RecipeError(f"{where}recipe setting {key!r} needs a {_KIND_NAMES[kind]}, got {value!r}")
    return kind(value)


def _fits(value: Any, kind: type) -> bool:
    if kind is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)
