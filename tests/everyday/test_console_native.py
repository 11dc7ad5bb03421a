"""The console shows people and moments as its readers know them: `@Name` for a person the handlers wrote as a
mention token, and every moment in the reader's own time zone (UTC until they set one)."""

from __future__ import annotations

from .conftest import Console


async def test_people_by_name_and_times_in_the_readers_zone(console: Console) -> None:
    await console("U2", "Sam", [])
    ana = await console(
        "U1",
        "Ana",
        [
            'customer add "Acme Corp"',
            "idea acme corp an export button",
            "ideas",
            "workhours --tz Asia/Tokyo",
            "ideas",
            "claim acme corp",
        ],
    )
    assert "<@" not in ana and "<!date" not in ana  # no raw tokens on a terminal
    assert "@Ana now owns Acme Corp." in ana
    utc_line, tokyo_line = [line for line in ana.splitlines() if "Acme Corp: an export button" in line]
    utc_time = utc_line.split(" UTC")[0].split()[-1]
    tokyo_time = tokyo_line.split(" JST")[0].split()[-1]
    assert " UTC" in utc_line and " JST" in tokyo_line
    assert (int(tokyo_time[:2]) - int(utc_time[:2])) % 24 == 9  # the same moment, nine hours later in Tokyo
