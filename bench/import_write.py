"""How long writing a 5,000-row import holds the write transaction, new path against old.

    python -m bench.import_write [--db sqlite|postgresql|both] [--rows 5000] [--repeat 3]
                                 [--old-repeat 1]

New: `bot.storage.imports` (plan in a read transaction, then one write transaction with one
multi-row INSERT per table). Old: the loop `bot.handlers.imports._import` ran before, deal by
deal through `bot.services.deals` in one transaction (kept in `tests.test_import_write`).

Each run imports the same kind of rows (`tests.test_import_write.many_rows`: phones, values,
two thirds moved to a later stage, half with a next contact) into a fresh team of the same
database, and measures from the transaction's BEGIN (SQLite: `BEGIN IMMEDIATE`, which takes the
write lock) to the end of its COMMIT: on SQLite the time every other writer (the dispatcher
marking reminders sent) waits. It prints each run, the median, and the planning time of the new
path (a read transaction, no write lock).

SQLite runs on a temporary file; PostgreSQL on `--postgres-url` or `$BENCH_POSTGRES_URL`
(default `postgresql://postgres@127.0.0.1:5432/crm_import_bench`), which is created if missing
and whose `public` schema is **dropped and recreated**: never point it at real data.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

from bench.postgres import reset_postgres

POSTGRES_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/crm_import_bench"
)


async def _run(url: str, rows: int, repeat: int, old_repeat: int) -> dict[str, list[float]]:
    from bot.i18n import I18n
    from bot.services.importing import ImportResult
    from bot.storage.db import Database
    from bot.storage.imports import plan_import, write_import
    from bot.storage.migrate import upgrade
    from bot.storage.unit_of_work import UnitOfWork
    from tests.conftest import FakeClock
    from tests.test_import_write import Office, legacy_import, many_rows, write_transaction_timer

    database = Database(url)
    await upgrade(database)
    clock = FakeClock()
    t = I18n().translator("pl", "Europe/Warsaw")
    times: dict[str, list[float]] = {"new": [], "plan": [], "old": []}
    try:
        for run in range(repeat + old_repeat):
            office = await Office(database, clock, 1_000 * (run + 1)).build()
            now = clock.advance(minutes=1)
            batch = many_rows(rows, now, phone_prefix=f"+48{run % 10}")
            if run < repeat:
                started = time.perf_counter()
                async with UnitOfWork(database.read_sessions, clock) as reader:
                    plan = await plan_import(
                        reader, office.team, office.manager, ImportResult(batch, [], {}), t
                    )
                times["plan"].append(time.perf_counter() - started)
                with write_transaction_timer(database) as begun:
                    async with office.uow() as uow:
                        outcome = await write_import(uow.session, office.team, plan, now)
                        await uow.commit()
                        ended = time.perf_counter()
                assert outcome.imported == rows, outcome
                times["new"].append(ended - begun[0])
                label = "new"
            else:
                with write_transaction_timer(database) as begun:
                    async with office.uow() as uow:
                        imported, _ = await legacy_import(
                            uow, office.team, office.manager, batch, t, now
                        )
                        await uow.commit()
                        ended = time.perf_counter()
                assert imported == rows, imported
                times["old"].append(ended - begun[0])
                label = "old"
            print(f"  run {run + 1}: {label} path, write transaction {times[label][-1]:.3f} s")
    finally:
        await database.dispose()
    return times


def _median(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} s" if values else "-"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--rows", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of the new path")
    parser.add_argument("--old-repeat", type=int, default=1, help="runs of the old path")
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    args = parser.parse_args()
    backends = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    print(f"{args.rows:,} rows; Python {platform.python_version()}, {os.cpu_count()} CPUs")
    results: dict[str, dict[str, list[float]]] = {}
    for backend in backends:
        print(f"{backend}:")
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as directory:
                url = f"sqlite:///{Path(directory) / 'bench.sqlite3'}"
                results[backend] = await _run(url, args.rows, args.repeat, args.old_repeat)
        else:
            await reset_postgres(args.postgres_url)
            results[backend] = await _run(
                args.postgres_url, args.rows, args.repeat, args.old_repeat
            )
    print()
    print("| database | new: write transaction (median) | new: planning (read) | old path |")
    print("|---|---|---|---|")
    for backend, times in results.items():
        print(
            f"| {backend} | {_median(times['new'])} | {_median(times['plan'])} "
            f"| {_median(times['old'])} |"
        )


if __name__ == "__main__":
    asyncio.run(main())
