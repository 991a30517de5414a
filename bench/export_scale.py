"""/export of a big team: 50 salespeople, 200,000 deals, 2,000,000 events.

    python -m bench.export_scale [--db sqlite|postgresql] [--deals 200000] [--events 2000000]

The data is the analytics benchmark's (`bench.analytics_scale`: two years of a car dealership,
seeded in a child process); `--reuse PATH` seeds a SQLite file once and reuses it afterwards
(`--reuse` alone reuses the PostgreSQL database as the last run left it), so the two benchmarks
can share one file.

This process loads what the bot loads (`bot.app`, or with `--bare` only the export's modules),
then runs `bot.services.export.write_export` for the team into a temporary directory with the
bot's settings (45 MB parts, 1,000,000 rows a sheet; `--part-mb`, `--sheet-rows` change them),
while a ticker task wakes every 50 ms and records how late it woke: the delay anybody else
writing to the bot would feel. It prints the wall time, the CPU time of the process (every
thread), the peak RSS of the process and of its children (ru_maxrss), the parts with their sizes
and sheets, and the ticker's lag (max, p99), against the targets: peak RSS under 150 MB and no
freeze (max lag under 1 s). `--verify` then opens every part with openpyxl (read-only) and checks
that each deal and event is there exactly once; it runs after the measurement.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform
import resource
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from bench.analytics_scale import NOW, POSTGRES_URL, FixedClock, SeedSpec, _seed_in_child
from bench.reminders_burst import code_version, current_rss_mb

TICK_SECONDS = 0.05
TARGET_RSS_MB = 150.0
TARGET_MAX_LAG_S = 1.0


def _maxrss_mb(who: int) -> float:
    maxrss = resource.getrusage(who).ru_maxrss
    return maxrss / 2**20 if sys.platform == "darwin" else maxrss / 1024


@dataclass
class Measured:
    wall_s: float = 0.0
    cpu_s: float = 0.0
    children_cpu_s: float = 0.0
    rss_imports_mb: float = 0.0
    rss_before_mb: float = 0.0
    rss_sampled_peak_mb: float = 0.0
    peak_rss_mb: float = 0.0
    children_peak_rss_mb: float = 0.0
    lags: list[float] = field(default_factory=list)
    parts: list[tuple[str, int]] = field(default_factory=list)
    csv: tuple[str, int] = ("", 0)
    deals: int = 0
    events: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    imports: str = ""
    database_version: str = ""
    deals_title: str = ""


async def _ticker(lags: list[float], samples: list[float], stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    expected = loop.time() + TICK_SECONDS
    ticks = 0
    while not stop.is_set():
        await asyncio.sleep(max(expected - loop.time(), 0))
        now = loop.time()
        lags.append(max(now - expected, 0.0))
        ticks += 1
        if ticks % 10 == 0:
            samples.append(current_rss_mb())
        expected = now + TICK_SECONDS


async def measure(db_url: str, args: argparse.Namespace, out: Path) -> Measured:
    result = Measured()
    if args.bare:
        import bot.services.export

        result.imports = "the export's modules only (--bare)"
    else:
        import bot.app  # noqa: F401 - what the bot process has loaded

        result.imports = "the whole bot (bot.app)"
    from sqlalchemy import func, select, text
    from sqlmodel import col

    from bot.config import Settings
    from bot.i18n import I18n
    from bot.runtime import Runtime
    from bot.services import export
    from bot.storage.db import Database
    from bot.storage.models import Deal, DealEvent, Team

    result.rss_imports_mb = current_rss_mb()
    settings = Settings(_env_file=None, telegram_bot_token="1:x", database_url=db_url)  # type: ignore[call-arg]
    runtime = Runtime(settings=settings, db=Database(db_url), i18n=I18n(), clock=FixedClock(NOW))
    part_bytes = int(args.part_mb * 1024 * 1024) if args.part_mb else settings.export_part_bytes
    sheet_rows = args.sheet_rows or settings.export_sheet_rows
    try:
        async with runtime.reader() as uow:
            connection = await uow.session.connection()
            team_id = (await connection.execute(select(func.min(Team.id)))).scalar()
            team = await uow.teams.get(team_id) if team_id is not None else None
            if team is None:
                raise SystemExit("the database has no team: seed it first (drop --reuse)")
            for name, column in (("deals", Deal.team_id), ("events", DealEvent.team_id)):
                count = select(func.count()).where(col(column) == team.id)
                result.counts[name] = int((await connection.execute(count)).scalar() or 0)
            version = "sqlite_version()" if runtime.db.is_sqlite else "version()"
            row = (await connection.execute(text(f"SELECT {version}"))).scalar()
            result.database_version = (
                f"SQLite {row}" if runtime.db.is_sqlite else str(row).split(" on ")[0]
            )
        t = runtime.i18n.translator("pl", team.timezone)
        result.deals_title = t._("Deals")
        result.rss_before_mb = current_rss_mb()
        children_cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
        stop = asyncio.Event()
        samples: list[float] = []
        ticker = asyncio.create_task(_ticker(result.lags, samples, stop))
        await asyncio.sleep(0.2)  # the ticker's first ticks, before the export starts
        started, cpu = time.perf_counter(), time.process_time()
        files = await export.write_export(
            runtime,
            team,
            t,
            out,
            part_bytes=part_bytes,
            sheet_rows=sheet_rows,
            today=date(2026, 11, 30),
            page_rows=args.page_rows or export.PAGE_ROWS,
        )
        args.page_rows = args.page_rows or export.PAGE_ROWS
        result.wall_s = time.perf_counter() - started
        result.cpu_s = time.process_time() - cpu
        stop.set()
        await ticker
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        result.children_cpu_s = (after.ru_utime + after.ru_stime) - (
            children_cpu.ru_utime + children_cpu.ru_stime
        )
        result.peak_rss_mb = _maxrss_mb(resource.RUSAGE_SELF)
        result.children_peak_rss_mb = _maxrss_mb(resource.RUSAGE_CHILDREN)
        result.rss_sampled_peak_mb = max(samples, default=0.0)
        result.parts = [(path.name, path.stat().st_size) for path in files.workbooks]
        result.csv = (files.csv.name, files.csv.stat().st_size)
        result.deals, result.events = files.deals, files.events
    finally:
        await runtime.db.dispose()
    return result


def verify(out: Path, measured: Measured) -> list[str]:
    """Every deal number and every event row once across the parts (read back with openpyxl)."""
    from openpyxl import load_workbook

    problems: list[str] = []
    numbers: list[int] = []
    events = 0
    for name, _ in measured.parts:
        book = load_workbook(out / name, read_only=True)
        for sheet in book.worksheets:
            rows = sheet.iter_rows(values_only=True)
            next(rows, None)  # the header
            if sheet.title.startswith(measured.deals_title):
                numbers.extend(int(row[0]) for row in rows if row and row[0] is not None)
            else:
                events += sum(1 for _ in rows)
        book.close()
    if len(set(numbers)) != len(numbers) or len(numbers) != measured.deals:
        problems.append(
            f"deals: {len(numbers)} read back ({len(set(numbers))} distinct), "
            f"{measured.deals} written"
        )
    if events != measured.events:
        problems.append(f"events: {events} read back, {measured.events} written")
    return problems


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(int(share * len(ordered)), len(ordered) - 1)]


def print_results(args: argparse.Namespace, m: Measured, problems: list[str] | None) -> bool:
    title = (
        f"Export at scale, {time.strftime('%Y-%m-%d %H:%M %Z')}, {platform.node()} "
        f"({os.cpu_count()} CPUs), Python {platform.python_version()}, {m.database_version}, "
        f"bot at {code_version()}"
    )
    print()
    print(title)
    print("-" * len(title))
    print(
        f"data: 1 team, {m.counts.get('deals', 0):,} deals, {m.counts.get('events', 0):,} events;"
        f" exported {m.deals:,} deals and {m.events:,} events; imports: {m.imports}"
    )
    print(f"page rows {args.page_rows:,}; part limit {args.part_mb or 45} MB")
    width = 36
    checks = []
    print(f"{'wall time s':<{width}} {m.wall_s:,.1f}")
    print(f"{'CPU s (process, all threads)':<{width}} {m.cpu_s:,.1f}")
    print(f"{'CPU s (child processes)':<{width}} {m.children_cpu_s:,.1f}")
    ok = m.peak_rss_mb < TARGET_RSS_MB
    checks.append(ok)
    print(
        f"{'peak RSS MB (process, ru_maxrss)':<{width}} {m.peak_rss_mb:,.1f}  "
        f"< {TARGET_RSS_MB:.0f}{'  ok' if ok else '  FAIL'}"
    )
    print(
        f"{'RSS MB: imports / before / max seen':<{width}} {m.rss_imports_mb:.1f} / "
        f"{m.rss_before_mb:.1f} / {m.rss_sampled_peak_mb:.1f}"
    )
    children = (
        "none waited for" if m.children_peak_rss_mb == 0 else f"{m.children_peak_rss_mb:.1f}"
    )
    print(f"{'peak RSS MB of children (seeding)':<{width}} {children}")
    lag_max = max(m.lags, default=0.0)
    ok = lag_max < TARGET_MAX_LAG_S
    checks.append(ok)
    print(
        f"{'event-loop lag ms: max / p99 / median':<{width}} {1000 * lag_max:,.0f} / "
        f"{1000 * _percentile(m.lags, 0.99):,.0f} / "
        f"{1000 * statistics.median(m.lags or [0.0]):,.0f}  (ticker every 50 ms, "
        f"{len(m.lags):,} ticks)  max < {1000 * TARGET_MAX_LAG_S:,.0f}"
        f"{'  ok' if ok else '  FAIL'}"
    )
    print(f"{'parts':<{width}} {len(m.parts)}")
    for name, size in m.parts:
        print(f"  {name:<{width - 2}} {size / 2**20:,.2f} MiB ({size:,} bytes)")
    print(f"  {m.csv[0]:<{width - 2}} {m.csv[1] / 2**20:,.2f} MiB ({m.csv[1]:,} bytes)")
    if problems is not None:
        checks.append(not problems)
        print(f"{'read back':<{width}} {'ok' if not problems else '; '.join(problems)}")
    passed = all(checks)
    print(f"{'verdict':<{width}} {'PASS' if passed else 'FAIL'}")
    return passed


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.export_scale",
        description="/export of a team of 50 with 200,000 deals and 2,000,000 events: time, "
        "CPU, memory, the parts, and how long everybody else waits meanwhile.",
    )
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    parser.add_argument("--deals", type=int, default=200_000)
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reuse", nargs="?", const="", metavar="PATH")
    parser.add_argument("--part-mb", type=float, default=0.0, help="part limit (45 MB)")
    parser.add_argument("--sheet-rows", type=int, default=0, help="rows a sheet (1,000,000)")
    parser.add_argument("--page-rows", type=int, help="rows a query (the bot's PAGE_ROWS)")
    parser.add_argument("--bare", action="store_true", help="do not load the whole bot first")
    parser.add_argument("--verify", action="store_true", help="read every part back")
    parser.add_argument("--keep-files", metavar="DIR", help="copy the files written to DIR")
    args = parser.parse_args(argv)
    if args.db == "postgresql":
        if args.reuse:
            parser.error("--reuse PATH is for SQLite; with PostgreSQL give --reuse alone")
        if args.postgres_url.rstrip("/").rpartition("/")[2] == "test":
            parser.error("refusing to wipe the test suite's `test` database")
    elif args.reuse == "":
        parser.error("--reuse needs the SQLite file's PATH")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    workdir = Path(tempfile.mkdtemp(prefix="export-scale-"))
    seed = True
    if args.db == "sqlite":
        path = Path(args.reuse).expanduser().resolve() if args.reuse else workdir / "crm.sqlite3"
        seed = not path.exists()
        db_url = f"sqlite:///{path}"
    else:
        db_url = args.postgres_url
        seed = args.reuse is None
    try:
        if seed:
            print(f"seeding {args.deals:,} deals and about {args.events:,} events…", flush=True)
            spec = SeedSpec(args.deals, args.events, args.people, args.seed)
            seeding = _seed_in_child(db_url, spec)
            print(f"seeded in {seeding['seconds']:.0f} s: {seeding['rows']}", flush=True)
        out = workdir / "out"
        out.mkdir()
        measured = asyncio.run(measure(db_url, args, out))
        problems = verify(out, measured) if args.verify else None
        if args.keep_files:
            target = Path(args.keep_files)
            target.mkdir(parents=True, exist_ok=True)
            for item in out.iterdir():
                shutil.copy2(item, target / item.name)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if print_results(args, measured, problems) else 1


if __name__ == "__main__":
    sys.exit(main())
