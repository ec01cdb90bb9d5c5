"""Which time zone names Clipcast accepts: canonical IANA zones only.

zoneinfo.available_timezones() is every file under the zoneinfo folders: besides the zones it lists
"localtime" (the host's own setting), "Factory" (a placeholder whose abbreviation is "-00"), and
backward-compatible aliases ("US/Eastern", "GB", "Asia/Calcutta", "EST5EDT", "Etc/GMT+5", which is UTC-5).
We accept the zones of tzdata's zone.tab and zone1970.tab (the tables of zones by country that tz itself
offers for choosing a zone: Europe/Amsterdam is there even though tzdata now links it to Europe/Brussels),
plus "UTC". A link (`L target name` in tzdata.zi) is refused with its target named, so the user knows what to
choose instead. The tables come from the tzdata package, so the answer is the same on every host.
"""

from __future__ import annotations

import zoneinfo
from functools import cache
from importlib import resources


def _tzdata_lines(name: str = "tzdata.zi") -> list[str]:
    return resources.files("tzdata").joinpath("zoneinfo", name).read_text(encoding="utf-8").splitlines()


@cache
def canonical_timezones() -> frozenset[str]:
    zones = {"UTC"}
    for table in ("zone.tab", "zone1970.tab"):
        zones.update(line.split("\t")[2] for line in _tzdata_lines(table) if line and not line.startswith("#"))
    return frozenset(zones & zoneinfo.available_timezones())


@cache
def aliases() -> dict[str, str]:
    """Link name -> the zone it stands for (e.g. "US/Eastern" -> "America/New_York")."""
    links = dict(reversed(line.split()[1:3]) for line in _tzdata_lines() if line.startswith("L "))
    return {"Etc/UTC": "UTC"} | {name: ("UTC" if target == "Etc/UTC" else target) for name, target in links.items()}


def refusal(name: str) -> str | None:
    """Why `name` is not accepted (with what to use instead), or None when it is a canonical zone."""
    if name in canonical_timezones():
        return None
    target = aliases().get(name)
    if target in canonical_timezones():
        return f"{name!r} is an old alias of {target}: choose {target}."
    return f"{name!r} is not a canonical IANA time zone: choose one such as Europe/Berlin, America/New_York or UTC."
