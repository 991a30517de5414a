"""How long other teams wait for an answer while a hostile spreadsheet is being parsed.

    python -m bench.import_bomb [--strings 600000] [--people 5] [--db sqlite|postgresql]

The real Application runs against the fake Bot API (as in the tests). A manager of one team
sends an XLSX whose shared-strings table holds `--strings` tiny strings: it passes every size
check (under 10 MB unpacked, packed well under 100 to 1), so openpyxl has to chew through it in
the parse's child process until the file is read or the CPU limit (IMPORT_CPU_SECONDS, 30 s by
default) stops it. Meanwhile `--people` salespeople of another team each send /help every
200 ms; each answer's delay (sent → answered) is recorded. The same load runs first without the
bomb, for the floor of this machine in this run.

Prints the delays (p50, p95, max) with and without the bomb, the parse's wall time and how it
ended, and the verdict against the target: another team's /help answered within 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

TARGET_SECONDS = 2.0


def _bomb(strings: int) -> tuple[bytes, int]:
    from tests.test_import_limits import names_sheet, random_words, shared_strings, sheet, workbook

    table = shared_strings(["Name", *random_words(strings, 3, seed=7)])
    return workbook(sheet(names_sheet(1)), table), len(table)


async def _ask(user: object, until: float, delays: list[float]) -> None:
    from tests.fakes.telegram_server import FakeUser

    assert isinstance(user, FakeUser)
    while time.monotonic() < until:
        started = time.monotonic()
        await user.send("/help")
        await user.expect("Pocket CRM", timeout=60)
        delays.append(time.monotonic() - started)
        await asyncio.sleep(0.2)


def _summary(delays: list[float]) -> str:
    if not delays:
        return "no answers"
    ordered = sorted(delays)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return (
        f"{len(delays)} answers, p50 {statistics.median(ordered) * 1000:.0f} ms, "
        f"p95 {p95 * 1000:.0f} ms, max {ordered[-1] * 1000:.0f} ms"
    )


async def run(strings: int, people: int, database: str) -> int:
    from bench.postgres import reset_postgres
    from tests.conftest import FakeClock
    from tests.fakes.telegram_server import FakeTelegram
    from tests.harness import BotRunner, seed_team

    logging.basicConfig(level=logging.WARNING)
    content, table_bytes = _bomb(strings)
    fake = FakeTelegram(chat_burst=1000)
    await fake.start()
    with tempfile.TemporaryDirectory() as directory:
        if database == "sqlite":
            url = f"sqlite:///{Path(directory) / 'bench.sqlite3'}"
        else:
            url = "postgresql://postgres@127.0.0.1:5432/crm_import_bomb_bench"
            await reset_postgres(url)
        bot = BotRunner(fake, url, FakeClock())
        await bot.start()
        try:
            first = await seed_team(bot, fake, "Bomb", [(1, "Mallory", "en", "manager")])
            others = await seed_team(
                bot,
                fake,
                "Floor",
                [
                    (100 + n, f"S{n}", "en", "salesperson" if n else "manager")
                    for n in range(people)
                ],
            )
            users = list(others.values())
            quiet: list[float] = []
            await asyncio.gather(*(_ask(u, time.monotonic() + 5, quiet) for u in users))

            mallory = first["Mallory"]
            loaded: list[float] = []
            started = time.monotonic()
            await mallory.send_document(content, "clients.xlsx")
            asking = [asyncio.create_task(_ask(u, time.monotonic() + 600, loaded)) for u in users]
            outcome = await mallory.expect(
                predicate=lambda m: "Reading" not in m.text and bool(m.text), timeout=120
            )
            parse_wall = time.monotonic() - started
            for task in asking:
                task.cancel()
            for task in asking:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        finally:
            await bot.stop()
            await fake.stop()
    worst = max(loaded, default=0.0)
    print(f"machine: {platform.machine()}, {platform.python_version()}, database {database}")
    print(
        f"bomb: {len(content) / 1024:.0f} KB XLSX, shared strings {table_bytes / 2**20:.1f} MB"
        f" ({strings:,} strings); parse ended after {parse_wall:.1f} s: {outcome.text[:60]!r}"
    )
    print(f"/help of another team, no bomb: {_summary(quiet)}")
    print(f"/help of another team, during the parse: {_summary(loaded)}")
    verdict = worst <= TARGET_SECONDS
    print(f"target: every answer within {TARGET_SECONDS:.0f} s: {'met' if verdict else 'MISSED'}")
    return 0 if verdict else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--strings", type=int, default=600_000)
    parser.add_argument("--people", type=int, default=5)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    options = parser.parse_args()
    return asyncio.run(run(options.strings, options.people, options.db))


if __name__ == "__main__":
    sys.exit(main())
