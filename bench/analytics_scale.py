"""The digest and the quarterly report of a big team: 50 salespeople, 200,000 deals, 2,000,000
events.

    python -m bench.analytics_scale [--db sqlite|postgresql] [--deals 200000] [--events 2000000]

Two processes, so that what is measured is the bot's own work:

* a child process migrates the database, creates the team through `bot.services.teams` (default
  stages and loss reasons, Europe/Warsaw, PLN) and bulk-inserts two years of a car dealership's
  life before a fixed "now" (Monday 30 November 2026, 17:30 UTC): salespeople, clients (some
  of them buy again), deals that are won, lost or still open, each with its event log in time
  order (created, stage moves, activities, follow-ups, notes, reminders sent, the odd mis-tap
  taken back with ↩️, won or lost), and the reminders (next contacts, win-backs, handovers);
* this process builds the manager's digest of that day (`bot.screens.digest.build_digest`), its
  funnel picture, and every section of the quarterly report (July-September 2026) for the
  manager and for one salesperson (`bot.handlers.report.render`), after a warm-up run, `--repeat`
  times, and prints the times (min, median), the memory of this process, and a verdict against
  the targets: digest under 0.5 s, quarterly report under 2 s, peak RSS under 300 MB. Exit status
  0 only when all of them hold.

Seeding the full size takes a few minutes: `--reuse PATH` seeds a SQLite file once and reuses it
afterwards (`--reuse` alone reuses the PostgreSQL database). `--queries` adds a pass that times
each repository method and SQL statement, `--explain` prints the query plans of the slow ones;
`--pg-set NAME=VALUE` (PostgreSQL) and `--no-statistics` (SQLite) measure the effect of server
settings and planner statistics without touching the bot's code. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import heapq
import json
import logging
import math
import multiprocessing
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

from bench.postgres import reset_postgres
from bench.reminders_burst import code_version, current_rss_mb, peak_rss_mb

# Heavy imports (the bot, SQLAlchemy, matplotlib) happen inside functions: the seeding child
# imports this module too, and this process measures its memory from the start.

NOW = datetime(2026, 11, 30, 17, 30, tzinfo=UTC)  # a Monday, 18:30 in Warsaw: the day is over
QUARTER_DAY = date(2026, 9, 15)  # inside the last full quarter: July to September 2026
HISTORY_DAYS = 730
TIMEZONE = "Europe/Warsaw"
TARGET_DIGEST_S = 0.5
TARGET_REPORT_S = 2.0
TARGET_RSS_MB = 300.0
POSTGRES_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/crm_analytics_bench"
)
MANAGER_USER_ID = 900_000_000
BATCH = 20_000

# --- what a dealership's two years look like ----------------------------------------------------
WORK_DAY = 9 * 3600  # the showroom is open Monday to Saturday, 9:00-18:00 local time
P_FORGOTTEN = 0.125  # deals nobody closed: they stay open, stale
P_WON = 0.235  # of the deals that run their course (the rest are lost)
P_RETURNING = 0.12  # a deal of a client who had one before
P_REASSIGNED = 0.015
P_MISTAP = 0.007  # a stage move taken back with ↩️ within the minute
P_WINBACK = 0.75  # resignations with a date to win the client back
WON_REACHED = (0.0, 0.0, 0.15, 0.30, 0.55)  # the stage a sale is closed from
LOST_AT = (0.22, 0.25, 0.22, 0.19, 0.12)  # the stage a client resigns at
# Loss reasons in DEFAULT_LOSS_REASONS order: price, competitor, financing, postponed,
# lost_contact, product, trade_in, changed_needs, other.
REASON_SHARE = (0.25, 0.18, 0.10, 0.12, 0.15, 0.06, 0.06, 0.05, 0.03)
EXTRA_KINDS = ("activity", "follow_up", "note")
EXTRA_SHARE = (0.52, 0.30, 0.18)
SOURCES = ("walk_in", "phone_call", "website", "referral", "other", None)
SOURCE_SHARE = (0.32, 0.20, 0.30, 0.10, 0.03, 0.05)
# Leads by month (January first): quiet winter and August, busy spring and autumn.
SEASON = (0.75, 0.85, 1.1, 1.2, 1.2, 1.1, 0.95, 0.8, 1.1, 1.15, 1.0, 0.8)

MODELS = ("Fabia", "Scala", "Octavia", "Superb", "Kamiq", "Karoq", "Kodiaq", "Enyaq", "Elroq")
OLD_CARS = ("Golf", "Astra", "Corolla", "Focus", "Octavia", "Passat", "Yaris", "i30")
MEN = ("Jan", "Piotr", "Krzysztof", "Andrzej", "Tomasz", "Paweł", "Marcin", "Michał", "Adam")
MEN += ("Łukasz", "Grzegorz", "Marek", "Jakub", "Kamil", "Rafał", "Wojciech", "Dariusz")
WOMEN = ("Anna", "Maria", "Katarzyna", "Małgorzata", "Agnieszka", "Barbara", "Ewa", "Joanna")
WOMEN += ("Magdalena", "Monika", "Aleksandra", "Natalia", "Karolina", "Beata", "Zofia")
SURNAMES = ("Kowalsk", "Nowak", "Wiśniewsk", "Wójcik", "Kowalczyk", "Kamińsk", "Lewandowsk")
SURNAMES += ("Zielińsk", "Szymańsk", "Woźniak", "Dąbrowsk", "Kozłowsk", "Jankowsk", "Mazur")
SURNAMES += ("Kwiatkowsk", "Krawczyk", "Piotrowsk", "Grabowsk", "Nowakowsk", "Pawłowsk")
SURNAMES += ("Michalsk", "Nowick", "Adamczyk", "Dudek", "Zając", "Wieczorek", "Jabłońsk")
NEXT_STEPS = (
    "Zadzwonić po decyzję",
    "Umówić jazdę próbną {model}",
    "Wysłać ofertę leasingu",
    "Potwierdzić finansowanie z bankiem",
    "Wycena auta w rozliczeniu",
    "Przypomnieć o ofercie na {model}",
    "Zaprosić na prezentację {model}",
    "Omówić termin dostawy",
)
NOTES = (
    "Interesuje go {model} z napędem hybrydowym",
    "Ma w rozliczeniu {old} z {year} r.",
    "Zależy mu na odbiorze przed świętami",
    "Decyzję podejmuje razem z żoną",
    "Leasing na firmę (JDG), 36 rat",
    "Pyta o pakiet serwisowy na 5 lat",
    "Chce kolor szary metalik, wersja Style",
    "Porównuje z ofertą Toyoty i Hyundaia",
)
COMMENTS = (  # by loss reason, same order as REASON_SHARE
    (
        "Za drogo, w innym salonie dostał {n} tys. zł rabatu",
        "Budżet do 90 tys., nasza oferta za wysoka",
        "Cena {model} w wersji Style poza zasięgiem",
        "Oczekiwał większego rabatu na {model}",
    ),
    (
        "Kupił Toyotę w salonie obok",
        "Wybrał Hyundaia, dłuższa gwarancja",
        "Konkurencja dała szybszy termin dostawy",
        "Kupił u dealera Kia, tańszy leasing",
    ),
    (
        "Bank odmówił kredytu",
        "Leasing nie przeszedł, za krótka działalność",
        "Nie dostał zgody na kredyt 50/50",
        "Rata za wysoka przy jego dochodach",
    ),
    (
        "Wraca do tematu wiosną",
        "Czeka na premię roczną, odezwie się w marcu",
        "Wstrzymuje zakup do końca budowy domu",
        "Przekłada zakup na przyszły rok",
    ),
    (
        "Nie odbiera telefonu od 3 tygodni",
        "Brak odpowiedzi na SMS i e-mail",
        "Numer nieaktywny",
        "Przestał odpisywać po jeździe próbnej",
    ),
    (
        "{model} niedostępny w kolorze, który chce",
        "Za mały bagażnik na jego potrzeby",
        "Na {model} 4x4 czeka się 8 miesięcy",
        "Brak wersji z hakiem w terminie",
    ),
    (
        "Za niska wycena jego {old}",
        "Chciał {n} tys. za {old}, daliśmy mniej",
        "Sprzedał stare auto prywatnie i zrezygnował",
        "Auto po szkodzie, nie przyjmujemy w rozliczeniu",
    ),
    (
        "Jednak szuka auta używanego",
        "Zdecydował się na elektryka innej marki",
        "Potrzebuje busa do firmy",
        "Zostaje przy jednym aucie w rodzinie",
    ),
    (
        "Przeprowadzka za granicę",
        "Choroba w rodzinie, temat zamknięty",
        "Firma zmieniła politykę flotową",
        "Rezygnacja bez podania przyczyny",
    ),
)


def _fill(text: str, rng: random.Random) -> str:
    return text.format(
        model=rng.choice(MODELS),
        old=rng.choice(OLD_CARS),
        year=rng.randint(2008, 2019),
        n=rng.randint(4, 45),
    )


class FixedClock:
    """The bot's clock, standing at NOW."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment


class Calendar:
    """The showroom's opening hours as one line of working seconds (nine hours a day, Monday to
    Saturday), so that a deal's life laid out on it lands in opening hours, in order."""

    def __init__(self, first: date, last: date) -> None:
        from zoneinfo import ZoneInfo

        zone = ZoneInfo(TIMEZONE)
        self.days: list[date] = []
        self.opens: list[float] = []  # epoch seconds of 9:00 local on each working day
        day = first
        while day <= last:
            if day.weekday() != 6:
                self.days.append(day)
                self.opens.append(datetime.combine(day, clock_time(9), zone).timestamp())
            day += timedelta(days=1)

    def epoch(self, working: float) -> float:
        index = min(max(int(working // WORK_DAY), 0), len(self.opens) - 1)
        return self.opens[index] + (working - index * WORK_DAY)

    def working(self, epoch: float) -> float:
        """The working-time position of a moment (closing time if it falls after hours)."""
        index = max(bisect.bisect_right(self.opens, epoch) - 1, 0)
        return index * WORK_DAY + min(max(epoch - self.opens[index], 0.0), WORK_DAY - 1.0)


def _utc(epoch: float | None) -> datetime | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(round(epoch, 3), UTC)


def _seconds(later: float, earlier: float) -> int:
    """Whole seconds between two stored moments, as the bot counts them (`_seconds_in_stage`)."""
    return max(int((_utc(later) - _utc(earlier)).total_seconds()), 0)  # type: ignore[operator]


# ------------------------------------------------------------------------------------------------
# What is seeded


@dataclass(frozen=True)
class SeedSpec:
    deals: int
    events: int
    people: int
    seed: int


@dataclass(slots=True)
class Plan:
    """A deal's life, decided before its events are written out."""

    start: float  # working seconds: created
    end: float  # closed, or for an open deal its last event
    status: str
    path: list[int]  # stage indexes entered, in order (moves that happened)
    moves: list[float]  # when each of them happened
    outcome_won: bool
    forgotten: bool
    owner: int = 0  # member index (0-based among the salespeople) at creation
    client: int = 0  # client id
    returning: bool = False
    reassign_to: int | None = None
    mistap: bool = False
    extras: int = 0

    @property
    def structural(self) -> int:
        """Events that are not activities, follow-ups or notes."""
        count = 1 + len(self.path) + 2 * self.mistap + (self.reassign_to is not None)
        return count + (2 if self.status == "won" else 1)  # won + handover; lost; last plan


def _path_to(final: int, rng: random.Random) -> list[int]:
    """Mostly one stage at a time, sometimes skipping one; now and then a step back and on."""
    path: list[int] = []
    current = 0
    while current < final:
        current += 2 if final - current >= 2 and rng.random() < 0.12 else 1
        path.append(current)
    if final >= 3 and rng.random() < 0.06:
        path += [final - 1, final]
    return path


@dataclass
class Salespeople:
    shares: list[float]  # how many leads each gets
    skill: list[float]  # win-rate multiplier

    @classmethod
    def draw(cls, people: int, rng: random.Random) -> Salespeople:
        shares = [rng.lognormvariate(0, 0.3) for _ in range(people)]
        skill = [rng.uniform(0.55, 1.45) for _ in range(people)]
        return cls(shares, skill)

    def cumulative(self, won: bool) -> list[float]:
        weights = [
            share * (P_WON * skill if won else 1 - P_WON * skill)
            for share, skill in zip(self.shares, self.skill, strict=True)
        ]
        total, cumulative = 0.0, []
        for weight in weights:
            total += weight
            cumulative.append(total)
        return cumulative


def plan_deals(spec: SeedSpec, calendar: Calendar, rng: random.Random) -> list[Plan]:
    w_now = calendar.working(NOW.timestamp())
    first_day = calendar.days.index(next(d for d in calendar.days if d >= _history_start()))
    last_day = int(w_now // WORK_DAY)
    day_weights = []
    for index in range(first_day, last_day + 1):
        day = calendar.days[index]
        growth = 0.9 + 0.2 * (index - first_day) / max(last_day - first_day, 1)
        weight = SEASON[day.month - 1] * growth * (0.6 if day.weekday() == 5 else 1.0)
        day_weights.append(weight)
    days = rng.choices(range(first_day, last_day + 1), weights=day_weights, k=spec.deals)
    plans = []
    for day in days:
        start = day * WORK_DAY + rng.uniform(0, WORK_DAY - 60)
        start = min(start, w_now - 120)
        won = rng.random() < P_WON
        weights = WON_REACHED if won else LOST_AT
        final = rng.choices(range(5), weights=weights)[0]
        path = _path_to(final, rng)
        median_days = 18 if won else 10
        life = min(rng.lognormvariate(math.log(median_days), 0.9), 250) * WORK_DAY
        moves = sorted(start + rng.uniform(0, life) for _ in path)
        forgotten = rng.random() < P_FORGOTTEN
        if forgotten:
            cut = min(start + life * rng.uniform(0.05, 0.7), w_now - 60)
            status = "open"
        elif start + life < w_now - 60:
            cut, status = start + life, "won" if won else "lost"
        else:
            cut, status = w_now - 60, "open"
        if status == "open":
            kept = sum(1 for moment in moves if moment < cut)
            path, moves = path[:kept], moves[:kept]
            last = moves[-1] if moves else start
            # The latest plan was made some time after the last move (late in the window).
            cut = last + (cut - last) * rng.random() ** 0.5
        plans.append(Plan(start, cut, status, path, moves, won, forgotten))
    plans.sort(key=lambda plan: plan.start)
    return plans


def _history_start() -> date:
    return NOW.date() - timedelta(days=HISTORY_DAYS)


def assign_people(plans: list[Plan], people: Salespeople, rng: random.Random) -> int:
    """Owners, clients (a returning client comes back after their last deal closed, mostly to
    the same salesperson), reassignments and mis-taps. Returns the number of clients."""
    cumulative = {True: people.cumulative(True), False: people.cumulative(False)}
    closed: list[tuple[float, int, int]] = []  # (closed at, client, owner): a heap
    free: list[tuple[int, int]] = []  # clients with no deal going on: (client, last owner)
    clients = 0
    everyone = range(len(people.shares))
    for plan in plans:
        while closed and closed[0][0] <= plan.start:
            _, client, owner = heapq.heappop(closed)
            free.append((client, owner))
        plan.owner = rng.choices(everyone, cum_weights=cumulative[plan.outcome_won])[0]
        if free and rng.random() < P_RETURNING:
            index = rng.randrange(len(free))
            free[index], free[-1] = free[-1], free[index]
            plan.client, last_owner = free.pop()
            plan.returning = True
            if rng.random() < 0.7:
                plan.owner = last_owner
        else:
            clients += 1
            plan.client = clients
        if len(people.shares) > 1 and rng.random() < P_REASSIGNED:
            plan.reassign_to = rng.choice([p for p in everyone if p != plan.owner])
        plan.mistap = rng.random() < P_MISTAP
        if plan.status != "open":
            final_owner = plan.reassign_to if plan.reassign_to is not None else plan.owner
            heapq.heappush(closed, (plan.end, plan.client, final_owner))
    return clients


def spread_extras(plans: list[Plan], events: int, rng: random.Random) -> int:
    """Share out the activities, follow-ups and notes so the total comes to `events`; busier
    and longer deals get more. Returns the structural events (the rest are extras)."""
    structural = sum(plan.structural for plan in plans)
    budget = max(events - structural, 0)
    weights = [
        (1 + len(plan.path))
        * math.sqrt((plan.end - plan.start) / WORK_DAY + 1)
        * rng.uniform(0.5, 1.5)
        for plan in plans
    ]
    total = sum(weights) or 1.0
    running, given = 0.0, 0
    for plan, weight in zip(plans, weights, strict=True):
        running += weight
        upto = round(budget * running / total)
        plan.extras, given = upto - given, upto
    return structural


@dataclass
class Ids:
    team: int
    manager: int  # member id
    stages: list[int]  # in pipeline order
    reasons: list[int]  # in DEFAULT_LOSS_REASONS order
    reason_days: list[int | None]
    members: list[int]  # salespeople's member ids


@dataclass
class Generated:
    clients: list[tuple[Any, ...]] = field(default_factory=list)
    deals: list[tuple[Any, ...]] = field(default_factory=list)
    events: list[tuple[Any, ...]] = field(default_factory=list)  # sortable, see write_deal
    reminders: list[tuple[Any, ...]] = field(default_factory=list)
    undo_targets: set[int] = field(default_factory=set)
    team: int = 0


CLIENT_COLUMNS = ("id", "team_id", "name", "phone", "company", "email", "source", "created_at")
DEAL_COLUMNS = (
    "id",
    "team_id",
    "number",
    "client_id",
    "owner_member_id",
    "stage_id",
    "status",
    "value_minor",
    "currency",
    "next_contact_at",
    "next_step",
    "last_note",
    "loss_reason_id",
    "loss_comment",
    "winback_at",
    "handover_at",
    "stage_entered_at",
    "created_at",
    "updated_at",
    "closed_at",
)
EVENT_COLUMNS = (
    "id",
    "team_id",
    "deal_id",
    "kind",
    "at",
    "actor_member_id",
    "owner_member_id",
    "from_stage_id",
    "to_stage_id",
    "activity",
    "amount_minor",
    "reason_id",
    "text",
    "due_at",
    "stage_seconds",
    "undoes_event_id",
    "data",
)
REMINDER_COLUMNS = (
    "id",
    "team_id",
    "deal_id",
    "member_id",
    "kind",
    "due_at",
    "status",
    "note",
    "attempts",
    "not_before",
    "claimed_at",
    "sent_at",
    "chat_message_id",
    "created_at",
)


def _client_row(client: int, ids: Ids, created: float, rng: random.Random) -> tuple[Any, ...]:
    female = rng.random() < 0.4
    first = rng.choice(WOMEN if female else MEN)
    surname = rng.choice(SURNAMES)
    if surname.endswith("sk") or surname.endswith("ck"):
        surname += "a" if female else "i"
    name = f"{first} {surname}"
    company = None
    if rng.random() < 0.12:
        company = rng.choice(("Transport {s}", "{s} i Syn sp. z o.o.", "Usługi Budowlane {s}"))
        company = company.format(s=surname)
    email = None
    if rng.random() < 0.3:
        email = f"{first.lower()}.{surname.lower()}{client}@example.pl"
    phone = f"+48{500_000_000 + (client * 7919) % 400_000_000}"
    source = rng.choices(SOURCES, weights=SOURCE_SHARE)[0]
    return (client, ids.team, name, phone, company, email, source, _utc(created))


def write_deal(
    deal_id: int,
    plan: Plan,
    ids: Ids,
    calendar: Calendar,
    out: Generated,
    counters: dict[str, int],
    rng: random.Random,
) -> None:
    """The deal's events (as sortable tuples), its reminders and the deal row as it stands."""
    w_now = calendar.working(NOW.timestamp())
    epoch_now = NOW.timestamp()
    team, stages = ids.team, ids.stages
    owner = ids.members[plan.owner]
    entered = plan.start  # working seconds
    stage = 0
    next_contact: float | None = None  # epoch seconds
    next_step: str | None = None
    last_note: str | None = None
    pending_reminder: int | None = None  # index into out.reminders of the planned contact
    value = None
    if rng.random() < 0.85:
        price = min(max(rng.lognormvariate(math.log(130_000), 0.4), 35_000), 900_000)
        value = int(round(price, -2)) * 100  # minor units
    source = "returning" if plan.returning else rng.choices(SOURCES, weights=SOURCE_SHARE)[0]

    def event(
        at: float,
        kind: str,
        *,
        actor: int | None = -1,
        from_stage: int | None = None,
        to_stage: int | None = None,
        activity: str | None = None,
        amount: int | None = None,
        reason: int | None = None,
        text: str | None = None,
        due: float | None = None,
        seconds: int | None = None,
        undoes: int | None = None,
        data: dict[str, Any] | None = None,
    ) -> int:
        counters["seq"] += 1
        out.events.append(
            (
                calendar.epoch(at),
                counters["seq"],
                deal_id,
                kind,
                owner if actor == -1 else actor,
                owner,
                from_stage,
                to_stage,
                activity,
                amount,
                reason,
                text,
                due,
                seconds,
                undoes,
                data,
            )
        )
        return counters["seq"]

    def reminder(kind: str, due: float, status: str, created: float) -> int:
        counters["reminder"] += 1
        sent = due if status in ("sent", "done") else None
        out.reminders.append(
            (
                counters["reminder"],
                team,
                deal_id,
                owner,
                kind,
                _utc(due),
                status,
                next_step if kind == "next_contact" else None,
                1 if sent else 0,
                None,
                _utc(sent),
                _utc(sent),
                None,
                _utc(created),
            )
        )
        return len(out.reminders) - 1

    def set_status(index: int | None, status: str) -> None:
        if index is not None:
            row = out.reminders[index]
            sent = row[5] if status in ("sent", "done") else None
            out.reminders[index] = (*row[:6], status, *row[7:10], sent, sent, *row[12:])

    event(
        plan.start,
        "created",
        to_stage=stages[0],
        amount=value,
        data={"source": source} if source else None,
    )
    window_end = plan.end
    slots: list[tuple[float, str, int]] = [
        (moment, "move", target) for moment, target in zip(plan.moves, plan.path, strict=True)
    ]
    slots += [(rng.uniform(plan.start, window_end), "extra", 0) for _ in range(plan.extras)]
    if plan.reassign_to is not None:
        slots.append((rng.uniform(plan.start, window_end), "reassign", 0))
    if plan.mistap:
        slots.append((rng.uniform(plan.start, window_end), "mistap", 0))
    slots.sort()
    spare = [index for index, slot in enumerate(slots) if slot[1] == "extra"]
    dropped: set[int] = set()
    for index, (moment, what, target) in enumerate(slots):
        if index in dropped:
            continue
        if what == "move":
            event(
                moment,
                "stage_changed",
                from_stage=stages[stage],
                to_stage=stages[target],
                seconds=_seconds(calendar.epoch(moment), calendar.epoch(entered)),
                data={"stage_entered_at": _utc(calendar.epoch(entered)).isoformat()},  # type: ignore[union-attr]
            )
            stage, entered = target, moment
        elif what == "mistap":
            wrong = rng.choice([s for s in range(len(stages)) if s != stage])
            target_seq = event(
                moment,
                "stage_changed",
                from_stage=stages[stage],
                to_stage=stages[wrong],
                seconds=_seconds(calendar.epoch(moment), calendar.epoch(entered)),
                data={"stage_entered_at": _utc(calendar.epoch(entered)).isoformat()},  # type: ignore[union-attr]
            )
            out.undo_targets.add(target_seq)
            event(moment + rng.uniform(8, 50), "undone", undoes=target_seq)
        elif what == "reassign":
            assert plan.reassign_to is not None
            new_owner = ids.members[plan.reassign_to]
            event(moment, "reassigned", actor=ids.manager, data={"from": owner, "to": new_owner})
            owner = new_owner
        else:
            kind = rng.choices(EXTRA_KINDS, weights=EXTRA_SHARE)[0]
            if kind == "activity":
                activity, amount = _activity(stage, value, rng)
                event(moment, "activity", activity=activity, amount=amount)
            elif kind == "note":
                last_note = _fill(rng.choice(NOTES), rng)
                event(moment, "note", text=last_note)
            else:
                due_w = moment + rng.uniform(0.3, 5) * WORK_DAY
                due = calendar.epoch(due_w)
                step = _fill(rng.choice(NEXT_STEPS), rng) if rng.random() < 0.6 else None
                event(moment, "follow_up_set", due=due, text=step)
                set_status(pending_reminder, "cancelled")  # a new plan replaces the old
                next_contact, next_step = due, step
                pending_reminder = reminder("next_contact", due, "pending", calendar.epoch(moment))
                # The reminder went out when due, if the deal was still going and it is past.
                later = [
                    i for i in spare if i > index and i not in dropped and slots[i][0] > due_w
                ]
                if due_w < window_end and due < epoch_now and later:
                    dropped.add(later[-1])  # the reminder's event takes an extra's place
                    rid = out.reminders[pending_reminder][0]
                    event(
                        due_w,
                        "reminder_sent",
                        actor=None,
                        due=due,
                        data={"reminder": rid, "kind": "next_contact", "late": False},
                    )
                    set_status(pending_reminder, "done")
                    pending_reminder = None
    snapshot = {
        "next_contact_at": _utc(next_contact).isoformat() if next_contact else None,  # type: ignore[union-attr]
        "next_step": next_step,
        "value_minor": value,
    }
    closed_at = winback = handover = None
    reason_id = comment = None
    status = plan.status
    end_epoch = calendar.epoch(plan.end)
    stage_seconds = _seconds(end_epoch, calendar.epoch(entered))
    if status == "won":
        final_value = value or int(round(rng.lognormvariate(math.log(130_000), 0.4), -2)) * 100
        final_value = int(round(final_value * rng.uniform(0.93, 1.0), -4))
        event(
            plan.end,
            "won",
            from_stage=stages[stage],
            amount=final_value,
            seconds=stage_seconds,
            data=snapshot,
        )
        value, closed_at = final_value, end_epoch
        set_status(pending_reminder, "cancelled")
        handover = end_epoch + rng.randint(2, 14) * 86400
        event(plan.end + 120, "follow_up_set", due=handover, data={"handover": True})
        for kind, due in (("handover", handover), ("satisfaction", handover + 7 * 86400)):
            reminder(kind, due, "pending" if due > epoch_now else "done", end_epoch)
        next_contact = next_step = None
    elif status == "lost":
        reason = rng.choices(range(len(ids.reasons)), weights=REASON_SHARE)[0]
        reason_id, comment = ids.reasons[reason], _fill(rng.choice(COMMENTS[reason]), rng)
        days = ids.reason_days[reason] or 90
        if rng.random() < (0.5 if reason == 4 else P_WINBACK):
            winback = end_epoch + days * 86400
        event(
            plan.end,
            "lost",
            from_stage=stages[stage],
            reason=reason_id,
            text=comment,
            due=winback,
            seconds=stage_seconds,
            amount=value,
            data=snapshot,
        )
        closed_at = end_epoch
        set_status(pending_reminder, "cancelled")
        if winback is not None:
            if winback > epoch_now:
                state = "pending"
            elif winback > epoch_now - 21 * 86400:
                state = "sent"  # went out, nobody acted on it yet
            else:
                state = "done" if rng.random() < 0.8 else "cancelled"
            reminder("winback", winback, state, end_epoch)
        next_contact = next_step = None
    else:
        # The plan as it stands: a contact ahead, one that slipped (overdue), or none.
        draw = rng.random()
        if plan.forgotten:
            due_w = plan.end + rng.uniform(1, 5) * WORK_DAY if draw < 0.5 else None
        elif draw < 0.65:
            due_w = w_now + rng.uniform(0.05, 8) * WORK_DAY
        elif draw < 0.85:
            due_w = plan.end + (w_now - plan.end) * rng.random()
        else:
            due_w = None
        next_contact = calendar.epoch(due_w) if due_w is not None else None
        next_step = _fill(rng.choice(NEXT_STEPS), rng) if next_contact else None
        event(plan.end, "follow_up_set", due=next_contact, text=next_step)
        set_status(pending_reminder, "cancelled")
        if next_contact is not None:
            state = "pending" if next_contact > epoch_now else "sent"
            reminder("next_contact", next_contact, state, end_epoch)
    out.deals.append(
        (
            deal_id,
            team,
            deal_id,
            plan.client,
            owner,
            stages[stage],
            status,
            value,
            "PLN",
            _utc(next_contact),
            next_step,
            last_note,
            reason_id,
            comment,
            _utc(winback),
            _utc(handover),
            _utc(calendar.epoch(entered)),
            _utc(calendar.epoch(plan.start)),
            _utc(end_epoch + (120 if status == "won" else 0)),
            _utc(closed_at),
        )
    )


def _activity(stage: int, value: int | None, rng: random.Random) -> tuple[str, int | None]:
    if stage <= 1:
        kind = rng.choices(("call", "message", "meeting"), weights=(0.6, 0.35, 0.05))[0]
    elif stage == 2:
        kind = rng.choices(
            ("meeting", "presentation", "test_drive", "call"), weights=(0.3, 0.25, 0.3, 0.15)
        )[0]
    else:
        kind = rng.choices(
            ("offer_sent", "call", "meeting", "test_drive", "message"),
            weights=(0.35, 0.3, 0.15, 0.1, 0.1),
        )[0]
    if kind != "offer_sent":
        return kind, None
    base = value or rng.lognormvariate(math.log(130_000), 0.4) * 100
    return kind, int(round(base * rng.uniform(0.95, 1.02), -4))


# ------------------------------------------------------------------------------------------------
# Seeding (a child process)


def _seed_process(db_url: str, spec: SeedSpec, conn: Any) -> None:
    logging.basicConfig(level=logging.WARNING)
    conn.send(asyncio.run(_seed(db_url, spec)))


async def _seed(db_url: str, spec: SeedSpec) -> dict[str, Any]:
    from sqlalchemy import insert, text, update

    from bot.domain import Role
    from bot.services.teams import create_team
    from bot.storage.db import Database
    from bot.storage.migrate import upgrade
    from bot.storage.models import Member, Team, User
    from bot.storage.unit_of_work import UnitOfWork

    started = time.perf_counter()
    phases: dict[str, float] = {}
    if db_url.startswith("postgres"):
        await reset_postgres(db_url)
    database = Database(db_url)
    await upgrade(database)
    phases["migrate"] = time.perf_counter() - started

    rng = random.Random(spec.seed)
    team_created = datetime.combine(_history_start() - timedelta(days=10), clock_time(9), UTC)
    async with UnitOfWork(database.sessions, FixedClock(team_created)) as uow:
        boss = await uow.users.add(
            User(
                id=MANAGER_USER_ID,
                first_name="Marek",
                last_name="Zieliński",
                language="pl",
                language_chosen=True,
                created_at=team_created,
                last_seen_at=NOW - timedelta(hours=2),
            )
        )
        team, manager = await create_team(
            uow, boss, "Auto Salon Wola — Škoda", team_created, allowed=True
        )
        stages = await uow.teams.stages(team.id or 0)
        reasons = await uow.teams.loss_reasons(team.id or 0)
        await uow.commit()
    assert team.id is not None and manager.id is not None
    users, members = [], []
    names: set[tuple[str, str]] = set()
    for person in range(spec.people):
        female = rng.random() < 0.35
        while True:  # everyone by a name of their own, as long as there are enough
            first, surname = rng.choice(WOMEN if female else MEN), rng.choice(SURNAMES)
            if surname.endswith("sk") or surname.endswith("ck"):
                surname += "a" if female else "i"
            if (first, surname) not in names or len(names) > 200:
                break
        names.add((first, surname))
        users.append(
            {
                "id": MANAGER_USER_ID + 1 + person,
                "first_name": first,
                "last_name": surname,
                "username": None,
                "language": "pl",
                "language_chosen": True,
                "team_id": team.id,
                "bot_blocked": False,
                "created_at": team_created + timedelta(days=1),
                "last_seen_at": NOW - timedelta(minutes=rng.randint(5, 600)),
            }
        )
        members.append(
            {
                "id": manager.id + 1 + person,
                "team_id": team.id,
                "user_id": MANAGER_USER_ID + 1 + person,
                "role": Role.SALESPERSON,
                "active": True,
                "morning_agenda": True,
                # Personal monthly targets for about half the team.
                "target_deals": rng.randint(25, 40) if person % 2 == 0 else None,
                "target_minor": None,
                "joined_at": team_created + timedelta(days=1, minutes=person),
            }
        )
    ids = Ids(
        team=team.id,
        manager=manager.id,
        stages=[s.id or 0 for s in stages],
        reasons=[r.id or 0 for r in reasons],
        reason_days=[r.winback_days for r in reasons],
        members=[m["id"] for m in members],
    )

    generate_started = time.perf_counter()
    calendar = Calendar(_history_start() - timedelta(days=14), NOW.date() + timedelta(days=500))
    plans = plan_deals(spec, calendar, rng)
    people = Salespeople.draw(spec.people, rng)
    client_count = assign_people(plans, people, rng)
    spread_extras(plans, spec.events, rng)
    out = Generated(team=ids.team)
    counters = {"seq": 0, "reminder": 0}
    first_deal: dict[int, float] = {}
    for deal_id, plan in enumerate(plans, start=1):
        first_deal.setdefault(plan.client, plan.start)
        write_deal(deal_id, plan, ids, calendar, out, counters, rng)
    out.clients = [
        _client_row(client, ids, calendar.epoch(first_deal[client]), rng)
        for client in range(1, client_count + 1)
    ]
    out.events.sort()  # by time: ids grow with time, as they do in a real log
    phases["generate"] = time.perf_counter() - generate_started

    insert_started = time.perf_counter()
    target_deals = round(len(plans) * 0.2 / 24 * 1.05)  # a month's sales, a little ambitious
    async with database.engine.begin() as connection:
        await connection.execute(
            update(Team)
            .where(Team.id == team.id)  # type: ignore[arg-type]
            .values(
                deal_counter=len(plans),
                target_deals=target_deals,
                target_minor=target_deals * 125_000_00,
            )
        )
        await connection.execute(insert(User), users)
        await connection.execute(insert(Member), members)
    if database.is_sqlite:
        await _insert_sqlite(database, out)
    else:
        await _copy_postgres(db_url, out)
    phases["insert"] = time.perf_counter() - insert_started

    finish_started = time.perf_counter()
    if not database.is_sqlite:
        async with database.engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            for name in ("member", "client", "deal", "dealevent", "reminder"):
                await connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"(SELECT MAX(id) FROM {name}))"
                    )
                )
            # What autovacuum does on its own a little after a bulk load.
            await connection.execute(text("VACUUM ANALYZE"))
    phases["finish"] = time.perf_counter() - finish_started
    await database.dispose()

    kinds = Counter(row[3] for row in out.events)
    statuses = Counter(row[6] for row in out.deals)
    reminders = Counter((row[4], row[6]) for row in out.reminders)
    return {
        "seconds": time.perf_counter() - started,
        "phases": phases,
        "rows": {
            "salespeople": len(members),
            "clients": len(out.clients),
            "deals": len(out.deals),
            "events": len(out.events),
            "reminders": len(out.reminders),
        },
        "deal_status": dict(statuses),
        "event_kinds": dict(kinds),
        "reminders": {f"{kind}/{status}": n for (kind, status), n in sorted(reminders.items())},
        "returning_deals": sum(plan.returning for plan in plans),
    }


def _event_rows(out: Generated) -> Any:
    """The events in time order as row tuples, with ids and the undo links resolved."""
    target_ids: dict[int, int] = {}
    for event_id, row in enumerate(out.events, start=1):
        seq = row[1]
        if seq in out.undo_targets:
            target_ids[seq] = event_id
        undoes = target_ids[row[14]] if row[14] is not None else None
        yield (
            event_id,
            out.team,
            row[2],
            row[3],
            _utc(row[0]),
            row[4],
            row[5],
            row[6],
            row[7],
            row[8],
            row[9],
            row[10],
            row[11],
            _utc(row[12]),
            row[13],
            undoes,
            row[15],
        )


def _batches(rows: Any, size: int = BATCH) -> Any:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


async def _insert_sqlite(database: Any, out: Generated) -> None:
    from bot.storage.models import Client, Deal, DealEvent, Reminder

    async with database.engine.begin() as connection:
        for table, columns, rows in (
            (Client.__table__, CLIENT_COLUMNS, out.clients),
            (Deal.__table__, DEAL_COLUMNS, out.deals),
            (DealEvent.__table__, EVENT_COLUMNS, _event_rows(out)),
            (Reminder.__table__, REMINDER_COLUMNS, out.reminders),
        ):
            for batch in _batches(rows):
                await connection.execute(
                    table.insert(),  # type: ignore[attr-defined]
                    [dict(zip(columns, row, strict=True)) for row in batch],
                )


async def _copy_postgres(db_url: str, out: Generated) -> None:
    """COPY, the way to load millions of rows into PostgreSQL."""
    import asyncpg

    connection = await asyncpg.connect(db_url.replace("postgresql+asyncpg://", "postgresql://"))
    data_index = EVENT_COLUMNS.index("data")

    def with_json(rows: Any) -> Any:
        for row in rows:
            data = row[data_index]
            yield (*row[:data_index], None if data is None else json.dumps(data))

    try:
        async with connection.transaction():
            for table, columns, rows in (
                ("client", CLIENT_COLUMNS, out.clients),
                ("deal", DEAL_COLUMNS, out.deals),
                ("dealevent", EVENT_COLUMNS, with_json(_event_rows(out))),
                ("reminder", REMINDER_COLUMNS, out.reminders),
            ):
                for batch in _batches(rows, 100_000):
                    await connection.copy_records_to_table(
                        table, records=batch, columns=list(columns)
                    )
    finally:
        await connection.close()


# ------------------------------------------------------------------------------------------------
# Measuring (this process)


@dataclass
class Step:
    name: str
    group: str  # "digest", "manager", "salesperson"
    run: Callable[[], Awaitable[Any]]
    times: list[float] = field(default_factory=list)
    cold: float = 0.0
    size: int = 0  # characters (or bytes for the picture) of what it produced
    rss_after_cold_mb: float = 0.0


@dataclass
class Measured:
    steps: list[Step]
    counts: dict[str, Any]
    salesperson: str
    rss_imports_mb: float = 0.0
    rss_before_mb: float = 0.0
    rss_after_mb: float = 0.0
    peak_rss_mb: float = 0.0
    database_version: str = ""
    texts: dict[str, str] = field(default_factory=dict)


SECTION_NAMES = {
    "f": "funnel",
    "l": "losses",
    "k": "activity",
    "t": "targets",
    "w": "win-back",
    "m": "people",
}


async def _facts(runtime: Any) -> tuple[Any, int, int, str, dict[str, Any], str]:
    """The team, its manager, the salesperson whose report is timed (the one with the most
    deals created in the quarter), row counts and the database's version."""
    from sqlalchemy import func, select, text

    from bot.domain import Role
    from bot.storage.models import Client, Deal, DealEvent, Member, Reminder, Team, User

    async with runtime.reader() as uow:
        connection = await uow.session.connection()

        async def scalar(statement: Any) -> Any:
            return (await connection.execute(statement)).scalar()

        team_id = await scalar(select(func.min(Team.id)))
        team = await uow.teams.get(team_id) if team_id is not None else None
        if team is None:
            raise SystemExit("the database has no team: seed it first (drop --reuse)")
        manager = await scalar(
            select(Member.id).where(Member.team_id == team.id, Member.role == Role.MANAGER)
        )
        q_start = datetime(2026, 7, 1, tzinfo=UTC) - timedelta(hours=2)
        q_end = datetime(2026, 10, 1, tzinfo=UTC) - timedelta(hours=2)
        busiest = (
            await connection.execute(
                select(Deal.owner_member_id, User.first_name, User.last_name, func.count())
                .join(Member, Member.id == Deal.owner_member_id)
                .join(User, User.id == Member.user_id)
                .where(Deal.created_at >= q_start, Deal.created_at < q_end)
                .group_by(Deal.owner_member_id, User.first_name, User.last_name)
                .order_by(func.count().desc())
                .limit(1)
            )
        ).first()
        if busiest is None:
            raise SystemExit("no deals created in the quarter: seed more deals")
        seller, first, last, deals = busiest
        day_start = datetime(2026, 11, 29, 23, 0, tzinfo=UTC)  # 30 November in Warsaw
        counts = {
            "salespeople": await scalar(
                select(func.count()).select_from(Member).where(Member.role != Role.MANAGER)
            ),
            "clients": await scalar(select(func.count()).select_from(Client)),
            "deals": await scalar(select(func.count()).select_from(Deal)),
            "events": await scalar(select(func.count()).select_from(DealEvent)),
            "reminders": await scalar(select(func.count()).select_from(Reminder)),
            "events on the digest day": await scalar(
                select(func.count()).select_from(DealEvent).where(DealEvent.at >= day_start)
            ),
            "deals created in the quarter": await scalar(
                select(func.count())
                .select_from(Deal)
                .where(Deal.created_at >= q_start, Deal.created_at < q_end)
            ),
            "events in the quarter": await scalar(
                select(func.count())
                .select_from(DealEvent)
                .where(DealEvent.at >= q_start, DealEvent.at < q_end)
            ),
        }
        status_rows = await connection.execute(
            select(Deal.status, func.count()).group_by(Deal.status)
        )
        counts["deal status"] = {status: int(n) for status, n in status_rows}
        if runtime.db.is_sqlite:
            version = "SQLite " + str(await scalar(text("SELECT sqlite_version()")))
        else:
            version = str(await scalar(text("SHOW server_version"))).split()[0]
            version = f"PostgreSQL {version}"
    who = f"{first} {last} (member {seller}, {deals} deals created in the quarter)"
    return team, int(manager), int(seller), who, counts, version


async def measure(db_url: str, args: argparse.Namespace) -> Measured:
    from bot.config import Settings
    from bot.handlers import report
    from bot.i18n import I18n
    from bot.runtime import Runtime
    from bot.screens import digest
    from bot.services import periods
    from bot.storage.db import Database

    rss_imports = current_rss_mb()
    settings = Settings(_env_file=None, telegram_bot_token="1:x", database_url=db_url)  # type: ignore[call-arg]
    runtime = Runtime(settings=settings, db=Database(db_url), i18n=I18n(), clock=FixedClock(NOW))
    runtime.bot_username = "bench_bot"
    try:
        team, manager_id, seller_id, who, counts, version = await _facts(runtime)
        t = runtime.i18n.translator("pl", team.timezone)
        day = t.local(NOW).date()
        period = periods.named("quarter", QUARTER_DAY)
        manager = report.Viewer(runtime, t, team, manager_id, True)
        seller = report.Viewer(runtime, t, team, seller_id, False)

        steps = [
            Step("digest", "digest", lambda: digest.build_digest(runtime, t, team, day, NOW)),
            Step(
                "funnel picture (PNG)", "digest", lambda: digest.funnel_picture(runtime, t, team)
            ),
        ]
        for group, viewer, sections in (
            ("manager", manager, report.MANAGER_SECTIONS),
            ("salesperson", seller, report.OWN_SECTIONS),
        ):
            for section in sections:
                steps.append(
                    Step(
                        f"{SECTION_NAMES.get(section, section)} ({section})",
                        group,
                        lambda v=viewer, s=section: report.render(v, s, period),
                    )
                )
        result = Measured(steps, counts, who, rss_imports_mb=rss_imports)
        result.database_version = version
        result.rss_before_mb = current_rss_mb()
        for run in range(1 + args.repeat):
            for step in steps:
                started = time.perf_counter()
                produced = await step.run()
                elapsed = time.perf_counter() - started
                if run == 0:
                    step.cold = elapsed
                    step.rss_after_cold_mb = current_rss_mb()
                    text = produced if isinstance(produced, bytes) else produced[0]
                    step.size = len(text)
                    if not isinstance(text, bytes):
                        result.texts[f"{step.group}: {step.name}"] = text
                else:
                    step.times.append(elapsed)
        result.rss_after_mb = current_rss_mb()
        result.peak_rss_mb = peak_rss_mb()
        if args.queries or args.explain:
            await diagnose(runtime, steps, args)
    finally:
        await runtime.db.dispose()
    return result


# --- diagnosis: which method and which statement take the time --------------------------------


@dataclass
class Statement:
    step: str
    method: str
    sql: str
    parameters: Any
    seconds: float


async def diagnose(runtime: Any, steps: list[Step], args: argparse.Namespace) -> None:
    """One more pass with every repository method and SQL statement timed; the slow statements'
    plans with --explain. Runs after the measured passes, so it changes none of their numbers."""
    import functools
    import inspect

    from sqlalchemy import event

    from bot.storage.analytics import AnalyticsRepository
    from bot.storage.reporting import ReportRepository
    from bot.storage.teams import TeamRepository

    where = {"step": "", "method": ""}
    calls: list[tuple[str, str, float]] = []
    statements: list[Statement] = []

    def timed(owner: str, name: str, function: Any) -> Any:
        @functools.wraps(function)
        async def wrapper(*a: Any, **kw: Any) -> Any:
            outer = where["method"]
            where["method"] = f"{owner}.{name}"
            started = time.perf_counter()
            try:
                return await function(*a, **kw)
            finally:
                calls.append((where["step"], where["method"], time.perf_counter() - started))
                where["method"] = outer

        return wrapper

    originals: list[tuple[type, str, Any]] = []
    for cls in (AnalyticsRepository, ReportRepository, TeamRepository):
        for name, function in list(vars(cls).items()):
            if name.startswith("_") or not inspect.iscoroutinefunction(function):
                continue
            originals.append((cls, name, function))
            setattr(cls, name, timed(cls.__name__.removesuffix("Repository"), name, function))

    engine = runtime.db.engine.sync_engine

    def before(conn: Any, cursor: Any, sql: str, parameters: Any, *_: Any) -> None:
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    def after(conn: Any, cursor: Any, sql: str, parameters: Any, *_: Any) -> None:
        started = conn.info["bench_started"].pop()
        statements.append(
            Statement(
                where["step"], where["method"], sql, parameters, time.perf_counter() - started
            )
        )

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        totals: dict[str, float] = {}
        for step in steps:
            where["step"] = f"{step.group}: {step.name}"
            started = time.perf_counter()
            await step.run()
            totals[where["step"]] = time.perf_counter() - started
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
        for cls, name, function in originals:
            setattr(cls, name, function)

    print("\nWhere the time goes (one instrumented pass; ms):")
    for step_name, total in totals.items():
        print(f"  {step_name}: {1000 * total:.0f}")
        per_method: dict[str, list[float]] = defaultdict(list)
        for step, method, seconds in calls:
            if step == step_name:
                per_method[method].append(seconds)
        for method, times in sorted(per_method.items(), key=lambda item: -sum(item[1])):
            if sum(times) * 1000 < args.queries_ms:
                continue
            queries = [s.seconds for s in statements if s.step == step_name and s.method == method]
            detail = ", ".join(f"{1000 * q:.0f}" for q in sorted(queries, reverse=True)[:6])
            print(
                f"      {method}: {1000 * sum(times):.0f} in {len(times)} call(s); "
                f"statements: {detail}"
            )
    if args.explain:
        await explain(runtime, statements, args.explain_ms)


async def explain(runtime: Any, statements: list[Statement], threshold_ms: float) -> None:
    seen: set[tuple[str, str]] = set()
    slow = sorted(
        (s for s in statements if s.seconds * 1000 >= threshold_ms), key=lambda s: -s.seconds
    )
    async with runtime.reader() as uow:
        connection = await uow.session.connection()
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        for statement in slow:
            key = (statement.method, statement.sql)
            if key in seen:
                continue
            seen.add(key)
            print(
                f"\n--- {statement.method} ({statement.step}), {1000 * statement.seconds:.0f} ms"
            )
            print(statement.sql)
            print(f"-- parameters: {statement.parameters!r}")
            if runtime.db.is_sqlite:
                cursor = await driver.execute(
                    "EXPLAIN QUERY PLAN " + statement.sql, statement.parameters
                )
                rows = await cursor.fetchall()
                depth: dict[int, int] = {0: 0}
                for node, parent, _, detail in rows:
                    depth[node] = depth.get(parent, 0) + 1
                    print("   " + "  " * depth[node] + detail)
            else:
                rows = await driver.fetch(
                    "EXPLAIN (ANALYZE, BUFFERS) " + statement.sql, *statement.parameters
                )
                for row in rows:
                    print("   " + row[0])


# ------------------------------------------------------------------------------------------------
# The table


def _ms(seconds: float) -> str:
    return f"{1000 * seconds:,.0f}"


def print_results(args: argparse.Namespace, measured: Measured, seeding: dict[str, Any]) -> bool:
    title = (
        f"Analytics at scale, {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}, "
        f"{platform.node()} ({os.cpu_count()} CPUs), Python {platform.python_version()}, "
        f"{measured.database_version}, bot at {code_version()}"
    )
    print()
    print(title)
    print("-" * len(title))
    counts = measured.counts
    print(
        "data: 1 team, {salespeople} salespeople + 1 manager, {clients:,} clients, "
        "{deals:,} deals {status}, {events:,} events, {reminders:,} reminders".format(
            status=counts["deal status"], **counts
        )
    )
    print(
        f"      digest day 2026-11-30: {counts['events on the digest day']:,} events; "
        f"quarter 2026-07-01..09-30: {counts['deals created in the quarter']:,} deals created, "
        f"{counts['events in the quarter']:,} events"
    )
    if seeding:
        phases = ", ".join(f"{k} {v:.0f} s" for k, v in seeding["phases"].items())
        print(f"seeded in {seeding['seconds']:.0f} s ({phases})")
    print(f"salesperson's report: {measured.salesperson}")
    print(f"runs: 1 warm-up (cold) + {args.repeat}; times in ms")
    print()
    width = 34
    print(f"{'':<{width}} {'cold':>8} {'min':>8} {'median':>8}  target")
    checks: list[bool] = []

    def line(name: str, cold: float, times: list[float], target: str = "", ok: bool | None = None):
        mark = "" if ok is None else ("  ok" if ok else "  FAIL")
        print(
            f"{name:<{width}} {_ms(cold):>8} {_ms(min(times)):>8} "
            f"{_ms(statistics.median(times)):>8}  {target}{mark}"
        )

    digest, picture = measured.steps[0], measured.steps[1]
    ok = statistics.median(digest.times) < TARGET_DIGEST_S
    checks.append(ok)
    line("digest (build_digest)", digest.cold, digest.times, "< 500", ok)
    line("funnel picture (PNG)", picture.cold, picture.times)
    both = [a + b for a, b in zip(digest.times, picture.times, strict=True)]
    line("digest + picture", digest.cold + picture.cold, both, "(information)")
    for group in ("manager", "salesperson"):
        steps = [step for step in measured.steps if step.group == group]
        print(f"quarterly report, {group}:")
        for step in steps:
            line(f"  {step.name}", step.cold, step.times)
        totals = [sum(run) for run in zip(*(step.times for step in steps), strict=True)]
        ok = statistics.median(totals) < TARGET_REPORT_S
        checks.append(ok)
        line(f"  total ({len(steps)} sections)", sum(s.cold for s in steps), totals, "< 2,000", ok)
    print()
    ok = measured.peak_rss_mb < TARGET_RSS_MB
    checks.append(ok)
    print(
        f"{'peak RSS MB (this process)':<{width}} {measured.peak_rss_mb:>8.1f}"
        f"{'':>18}  < 300{'  ok' if ok else '  FAIL'}"
    )
    print(
        f"{'RSS MB: imports / before / after':<{width}} {measured.rss_imports_mb:.1f} / "
        f"{measured.rss_before_mb:.1f} / {measured.rss_after_mb:.1f}"
    )
    after = {step.group: step.rss_after_cold_mb for step in measured.steps}
    digest_mb, picture_mb = (step.rss_after_cold_mb for step in measured.steps[:2])
    print(
        f"{'RSS MB after each cold step':<{width}} digest {digest_mb:.1f}, "
        f"picture {picture_mb:.1f}, manager's report "
        f"{after['manager']:.1f}, salesperson's {after['salesperson']:.1f}"
    )
    passed = all(checks)
    print(f"{'verdict':<{width}} {'PASS' if passed else 'FAIL'}")
    print(
        "The seeding ran in a child process; memory is this process only (the bot's code, "
        "the runtime and what the digest and the report load)."
    )
    return passed


# ------------------------------------------------------------------------------------------------
# Main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.analytics_scale",
        description="A team of 50 with 200,000 deals and 2,000,000 events: time to build the "
        "daily digest and the quarterly report, and peak memory, against the targets.",
    )
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--postgres-url",
        default=POSTGRES_URL,
        help="with --db postgresql: the database (created if missing) whose `public` schema "
        "is DROPPED and recreated (default $BENCH_POSTGRES_URL or %(default)s)",
    )
    parser.add_argument("--deals", type=int, default=200_000)
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--people", type=int, default=50, help="salespeople (50)")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the data (1)")
    parser.add_argument("--repeat", type=int, default=3, help="measured runs after the warm-up")
    parser.add_argument(
        "--keep", action="store_true", help="SQLite: keep the seeded temp file (prints its path)"
    )
    parser.add_argument(
        "--reuse",
        nargs="?",
        const="",
        metavar="PATH",
        help="SQLite: use the database file PATH, seeding it first only if it does not exist "
        "(it is kept); PostgreSQL (no PATH): measure the database as the last run left it",
    )
    parser.add_argument(
        "--pg-set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="PostgreSQL: a server setting for the benchmark's database while measuring, e.g. "
        "jit=off (ALTER DATABASE … SET; every run first RESETs them all); repeatable",
    )
    parser.add_argument(
        "--no-statistics",
        action="store_true",
        help="SQLite: skip the planner statistics the bot gathers at start "
        "(Database.refresh_statistics), to see what they are worth",
    )
    parser.add_argument(
        "--queries",
        action="store_true",
        help="afterwards, one instrumented pass: time per repository method and statement",
    )
    parser.add_argument("--queries-ms", type=float, default=5.0, help="hide methods below (5)")
    parser.add_argument(
        "--explain",
        action="store_true",
        help="with the instrumented pass, print the plans (PostgreSQL: EXPLAIN ANALYZE) of "
        "statements slower than --explain-ms",
    )
    parser.add_argument("--explain-ms", type=float, default=50.0)
    parser.add_argument(
        "--show", action="store_true", help="print the digest and the report screens"
    )
    args = parser.parse_args(argv)
    if min(args.deals, args.events, args.people, args.repeat) < 1:
        parser.error("--deals, --events, --people and --repeat must be positive")
    if args.db == "postgresql":
        if args.reuse:
            parser.error("--reuse PATH is for SQLite; with PostgreSQL give --reuse alone")
        if args.postgres_url.rstrip("/").rpartition("/")[2] == "test":
            parser.error("refusing to wipe the test suite's `test` database")
    elif args.reuse == "":
        parser.error("--reuse needs the SQLite file's PATH")
    for setting in args.pg_set:
        name, _, value = setting.partition("=")
        if args.db != "postgresql" or not name.replace("_", "").isalnum() or not value:
            parser.error(f"--pg-set {setting!r}: NAME=VALUE, with --db postgresql")
    return args


def _seed_in_child(db_url: str, spec: SeedSpec) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    conn, child_conn = context.Pipe(duplex=False)
    seeder = context.Process(target=_seed_process, args=(db_url, spec, child_conn), name="seed")
    seeder.start()
    child_conn.close()
    try:
        stats = conn.recv()
    except EOFError:
        stats = None
    seeder.join()
    if seeder.exitcode != 0 or stats is None:
        raise SystemExit(f"seeding failed (exit code {seeder.exitcode})")
    return stats


async def _postgres_settings(db_url: str, settings: list[str]) -> None:
    """Reset the benchmark database's own settings, then apply `--pg-set` ones: they last
    beyond the run (`ALTER DATABASE`), so each run starts from the server's defaults."""
    import asyncpg

    dsn = db_url.replace("postgresql+asyncpg://", "postgresql://")
    name = dsn.rpartition("/")[2]
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        await connection.execute(f'ALTER DATABASE "{name}" RESET ALL')
        for setting in settings:
            key, _, value = setting.partition("=")
            quoted = value.replace("'", "''")
            await connection.execute(f"ALTER DATABASE \"{name}\" SET {key} = '{quoted}'")
    finally:
        await connection.close()


async def _statistics(db_url: str) -> None:
    """What the bot does after its migrations, at every start (and hourly): planner
    statistics on SQLite (a no-op on PostgreSQL, where autovacuum keeps them)."""
    from bot.storage.db import Database

    database = Database(db_url)
    await database.refresh_statistics()
    await database.dispose()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    spec = SeedSpec(args.deals, args.events, args.people, args.seed)
    workdir: Path | None = None
    seed = True
    if args.db == "sqlite":
        if args.reuse:
            path = Path(args.reuse).expanduser().resolve()
            seed = not path.exists()
        else:
            workdir = Path(tempfile.mkdtemp(prefix="analytics-scale-"))
            path = workdir / "crm.sqlite3"
        db_url = f"sqlite:///{path}"
    else:
        db_url = args.postgres_url
        seed = args.reuse is None
    seeding: dict[str, Any] = {}
    try:
        if seed:
            print(
                f"seeding {args.deals:,} deals and about {args.events:,} events for "
                f"{args.people} salespeople on {args.db}…",
                flush=True,
            )
            seeding = _seed_in_child(db_url, spec)
            print(
                f"seeded in {seeding['seconds']:.0f} s: {seeding['rows']}\n"
                f"  deals: {seeding['deal_status']}, returning clients' deals: "
                f"{seeding['returning_deals']:,}\n"
                f"  events: {seeding['event_kinds']}\n  reminders: {seeding['reminders']}",
                flush=True,
            )
        else:
            print(f"reusing {db_url} (not seeded again)", flush=True)
        if args.db == "postgresql":
            asyncio.run(_postgres_settings(db_url, args.pg_set))
        if not args.no_statistics:
            asyncio.run(_statistics(db_url))
        measured = asyncio.run(measure(db_url, args))
    finally:
        if workdir is not None:
            if args.keep:
                print(f"kept {path}: next time add --reuse {path}")
            else:
                shutil.rmtree(workdir, ignore_errors=True)
    passed = print_results(args, measured, seeding)
    if args.show:
        for name, text in measured.texts.items():
            print(f"\n===== {name} =====\n{text}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
