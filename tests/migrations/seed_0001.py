"""0001, the initial schema: a Polish dealership as the bot created it, and its first weeks.

The team (Salon Samochodowy Wiśniewski, Europe/Warsaw, PLN) with a manager and two
salespeople, the default stages and loss reasons, a user who never joined a team, clients with
Polish names, deals #1-#6 in every state with their event log (a move without the recorded
stage-entry moment, as an early version wrote it, and a move taken back with ↩️), reminders
(one left "sending" by a stopped process), a conversation in progress, processed updates and
a group chat told the bot works in private.

Expected at head: `dealevent.stage_seconds` filled in by 0005 from the log (worked out by hand
below, `stage_seconds=`), the reminder left "sending" back to "pending" and `deal.version` 0
(0006).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from tests.migrations import Seeded, Tables, Writer, moment

TEAM = "Salon Samochodowy Wiśniewski"
MAREK, AGNIESZKA, PIOTR, OLENA = 501234567, 502345678, 503456789, 504567890
STAGES = {"new_lead": 2, "contacted": 5, "needs_identified": 7, "offer_sent": 7, "negotiation": 14}
REASONS = {
    "price": 90,
    "competitor": 180,
    "financing": 30,
    "postponed": 90,
    "lost_contact": 90,
    "product": 90,
    "trade_in": 90,
    "changed_needs": 180,
    "other": 90,
}
HOUR, DAY = 3600, 86400
# Written before 0006: `deal.version` is added with 0.
BEFORE_VERSIONS = {"version": 0}


async def catalog(w: Writer, team: int) -> tuple[dict[str, int], dict[str, int]]:
    """The default stages and loss reasons, as `teams.create_team` makes them."""
    stages = {
        key: await w.insert(
            "stage", team_id=team, key=key, position=i, limit_days=days, retired=False
        )
        for i, (key, days) in enumerate(STAGES.items())
    }
    reasons = {
        key: await w.insert(
            "lossreason", team_id=team, key=key, position=i, winback_days=days, retired=False
        )
        for i, (key, days) in enumerate(REASONS.items())
    }
    return stages, reasons


def entered(text: str) -> dict[str, Any]:
    """What a stage move records: when the deal entered the stage it leaves."""
    return {"stage_entered_at": moment(text).isoformat()}


def snapshot(next_contact: str | None, next_step: str | None, value: int | None) -> dict[str, Any]:
    """What a win or a resignation records so an undo can put it back."""
    planned = moment(next_contact).isoformat() if next_contact else None
    return {"next_contact_at": planned, "next_step": next_step, "value_minor": value}


async def seed(connection: AsyncConnection, tables: Tables) -> list[Seeded]:
    w = Writer(connection, tables)
    team = await w.insert(
        "team",
        name=TEAM,
        timezone="Europe/Warsaw",
        currency="PLN",
        country="PL",
        digest_hour=18,
        work_days=0b0111111,
        work_start_minute=9 * 60,
        work_end_minute=18 * 60,
        invite_code="Wk3pQz9sTb2LmX7a",
        deal_counter=6,
        created_at=moment("2026-10-01 07:00"),
    )
    people = [
        (MAREK, "Marek", "Wiśniewski", "marek_wisniewski", "pl", True, "2026-10-01 07:00"),
        (AGNIESZKA, "Agnieszka", "Kowalczyk", "aga_kowalczyk", "pl", True, "2026-10-01 08:00"),
        (PIOTR, "Piotr", "Zieliński", None, "pl", False, "2026-10-02 08:00"),
    ]
    members = {}
    for user_id, first, last, username, language, chosen, joined in people:
        await w.insert(
            "app_user",
            id=user_id,
            first_name=first,
            last_name=last,
            username=username,
            language=language,
            language_chosen=chosen,
            team_id=team,
            bot_blocked=False,
            created_at=moment(joined),
            last_seen_at=moment("2026-11-20 08:00"),
        )
        members[user_id] = await w.insert(
            "member",
            team_id=team,
            user_id=user_id,
            role="manager" if user_id == MAREK else "salesperson",
            active=True,
            morning_agenda=user_id != PIOTR,
            joined_at=moment(joined),
            deactivated_at=None,
        )
    # Started the bot, never joined a team, then blocked it.
    await w.insert(
        "app_user",
        id=OLENA,
        first_name="Олена",
        last_name="Шевченко",
        username="olena_sh",
        language="ru",
        language_chosen=False,
        team_id=None,
        bot_blocked=True,
        created_at=moment("2026-10-15 18:20"),
        last_seen_at=moment("2026-10-15 18:21"),
    )
    aga, piotr = members[AGNIESZKA], members[PIOTR]
    stages, reasons = await catalog(w, team)

    clients = {}
    for name, phone, company, email, source, created in (
        ("Jarosław Kamiński", "+48512345678", None, None, "other", "2026-10-20 09:00"),
        ("Łukasz Żółć", "+48601234567", None, "lukasz.zolc@wp.pl", "walk_in", "2026-11-02 08:30"),
        (
            "Zofia Nowak & Syn <VIP>",
            "+48223456789",
            "Nowak & Syn Sp. j.",
            "biuro@nowakisyn.pl",
            "referral",
            "2026-11-03 09:00",
        ),
        (
            "Grzegorz Brzęczyszczykiewicz",
            "+48698765432",
            None,
            None,
            "phone_call",
            "2026-11-05 10:00",
        ),
        ("Małgorzata Wójcik", None, None, "m.wojcik@onet.pl", None, "2026-11-10 11:00"),
        ("Ewa Dąbrowska", "+48505111222", None, None, "returning", "2026-11-12 09:00"),
    ):
        clients[name] = await w.insert(
            "client",
            team_id=team,
            name=name,
            phone=phone,
            company=company,
            email=email,
            source=source,
            created_at=moment(created),
        )

    async def deal(number: int, client: str, owner: int, stage: str, **fields: Any) -> int:
        fields.setdefault("status", "open")
        for name in ("next_contact_at", "winback_at", "handover_at", "closed_at"):
            fields.setdefault(name, None)
        return int(
            await w.insert(
                "deal",
                BEFORE_VERSIONS,
                team_id=team,
                number=number,
                client_id=clients[client],
                owner_member_id=owner,
                stage_id=stages[stage],
                currency="PLN",
                **fields,
            )
        )

    async def event(
        deal_id: int, owner: int, kind: str, at: str, *, stage_seconds: int | None, **fields: Any
    ) -> int:
        """`stage_seconds`: what 0005 is to work out from the log."""
        fields.setdefault("actor_member_id", owner)
        for stage in ("from_stage_id", "to_stage_id"):
            if isinstance(fields.get(stage), str):
                fields[stage] = stages[fields[stage]]
        return int(
            await w.insert(
                "dealevent",
                {"stage_seconds": stage_seconds},
                team_id=team,
                deal_id=deal_id,
                owner_member_id=owner,
                kind=kind,
                at=moment(at),
                **fields,
            )
        )

    # #1: created in October, met in November, lost to a competitor in November.
    one = await deal(
        1,
        "Jarosław Kamiński",
        aga,
        "contacted",
        status="lost",
        value_minor=8_900_000,
        last_note="Szuka SUV-a hybrydowego, ma Corollę w rozliczeniu",
        loss_reason_id=reasons["competitor"],
        loss_comment="Kupił u konkurencji – Toyota dała 8 tys. rabatu",
        winback_at=moment("2027-05-02 10:00"),
        stage_entered_at=moment("2026-10-22 10:00"),
        created_at=moment("2026-10-20 09:00"),
        updated_at=moment("2026-11-03 10:00"),
        closed_at=moment("2026-11-03 10:00"),
    )
    await event(
        one, aga, "created", "2026-10-20 09:00", stage_seconds=None,
        to_stage_id="new_lead", amount_minor=8_900_000, data={"source": "other"},
    )  # fmt: skip
    await event(
        one, aga, "note", "2026-10-20 09:01", stage_seconds=None,
        text="Szuka SUV-a hybrydowego, ma Corollę w rozliczeniu",
    )  # fmt: skip
    await event(one, aga, "activity", "2026-10-22 09:50", stage_seconds=None, activity="call")
    await event(
        one, aga, "stage_changed", "2026-10-22 10:00", stage_seconds=2 * DAY + HOUR,
        from_stage_id="new_lead", to_stage_id="contacted", data=entered("2026-10-20 09:00"),
    )  # fmt: skip
    await event(
        one, aga, "follow_up_set", "2026-10-22 10:01", stage_seconds=None,
        due_at=moment("2026-11-05 09:00"),
    )  # fmt: skip
    await event(one, aga, "activity", "2026-11-02 14:00", stage_seconds=None, activity="meeting")
    await event(
        one, aga, "lost", "2026-11-03 10:00", stage_seconds=12 * DAY,
        from_stage_id="contacted", reason_id=reasons["competitor"],
        text="Kupił u konkurencji – Toyota dała 8 tys. rabatu",
        due_at=moment("2027-05-02 10:00"), amount_minor=8_900_000,
        data=snapshot("2026-11-05 09:00", "Jazda próbna", 8_900_000),
    )  # fmt: skip

    # #2: through every stage to a sale; one move without the recorded stage entry.
    two = await deal(
        2,
        "Łukasz Żółć",
        aga,
        "negotiation",
        status="won",
        value_minor=12_000_000,
        handover_at=moment("2026-11-20 10:00"),
        stage_entered_at=moment("2026-11-09 09:00"),
        created_at=moment("2026-11-02 08:30"),
        updated_at=moment("2026-11-12 15:05"),
        closed_at=moment("2026-11-12 15:00"),
    )
    await event(
        two, aga, "created", "2026-11-02 08:30", stage_seconds=None,
        to_stage_id="new_lead", data={"source": "walk_in"},
    )  # fmt: skip
    await event(two, aga, "activity", "2026-11-02 11:00", stage_seconds=None, activity="call")
    await event(
        two, aga, "stage_changed", "2026-11-02 12:00", stage_seconds=3 * HOUR + 30 * 60,
        from_stage_id="new_lead", to_stage_id="contacted", data=entered("2026-11-02 08:30"),
    )  # fmt: skip
    await event(
        two, aga, "stage_changed", "2026-11-04 09:00", stage_seconds=DAY + 21 * HOUR,
        from_stage_id="contacted", to_stage_id="needs_identified",
        data=entered("2026-11-02 12:00"),
    )  # fmt: skip
    await event(
        two, aga, "activity", "2026-11-05 14:00", stage_seconds=None, activity="test_drive"
    )
    await event(
        two, aga, "stage_changed", "2026-11-06 10:00", stage_seconds=2 * DAY + HOUR,
        from_stage_id="needs_identified", to_stage_id="offer_sent",
        data=entered("2026-11-04 09:00"),
    )  # fmt: skip
    await event(
        two, aga, "activity", "2026-11-06 10:05", stage_seconds=None,
        activity="offer_sent", amount_minor=12_500_000,
    )  # fmt: skip
    # No recorded entry: 0005 takes the previous move (6.11 10:00).
    await event(
        two, aga, "stage_changed", "2026-11-09 09:00", stage_seconds=2 * DAY + 23 * HOUR,
        from_stage_id="offer_sent", to_stage_id="negotiation",
    )  # fmt: skip
    await event(
        two, aga, "won", "2026-11-12 15:00", stage_seconds=3 * DAY + 6 * HOUR,
        from_stage_id="negotiation", amount_minor=12_000_000,
        data=snapshot("2026-11-13 09:00", "Podpisanie umowy", 12_500_000),
    )  # fmt: skip
    await event(
        two, aga, "follow_up_set", "2026-11-12 15:05", stage_seconds=None,
        due_at=moment("2026-11-20 10:00"), data={"handover": True},
    )  # fmt: skip

    # #3: a fleet offer lost on financing.
    three = await deal(
        3,
        "Zofia Nowak & Syn <VIP>",
        piotr,
        "offer_sent",
        status="lost",
        value_minor=24_000_000,
        last_note="Chcą dwa Kodiaqi w leasingu na firmę",
        loss_reason_id=reasons["financing"],
        loss_comment='Leasing nie przeszedł – bank odmówił ("zbyt młoda firma")',
        winback_at=moment("2026-12-16 12:00"),
        stage_entered_at=moment("2026-11-10 09:00"),
        created_at=moment("2026-11-03 09:00"),
        updated_at=moment("2026-11-16 12:00"),
        closed_at=moment("2026-11-16 12:00"),
    )
    await event(
        three, piotr, "created", "2026-11-03 09:00", stage_seconds=None,
        to_stage_id="new_lead", amount_minor=24_000_000, data={"source": "referral"},
    )  # fmt: skip
    await event(
        three, piotr, "stage_changed", "2026-11-03 13:00", stage_seconds=4 * HOUR,
        from_stage_id="new_lead", to_stage_id="contacted", data=entered("2026-11-03 09:00"),
    )  # fmt: skip
    await event(
        three, piotr, "activity", "2026-11-04 10:00", stage_seconds=None, activity="meeting"
    )
    await event(
        three, piotr, "stage_changed", "2026-11-05 11:00", stage_seconds=DAY + 22 * HOUR,
        from_stage_id="contacted", to_stage_id="needs_identified",
        data=entered("2026-11-03 13:00"),
    )  # fmt: skip
    await event(
        three, piotr, "note", "2026-11-05 11:05", stage_seconds=None,
        text="Chcą dwa Kodiaqi w leasingu na firmę",
    )  # fmt: skip
    await event(
        three, piotr, "stage_changed", "2026-11-10 09:00", stage_seconds=4 * DAY + 22 * HOUR,
        from_stage_id="needs_identified", to_stage_id="offer_sent",
        data=entered("2026-11-05 11:00"),
    )  # fmt: skip
    await event(
        three, piotr, "activity", "2026-11-10 09:10", stage_seconds=None,
        activity="offer_sent", amount_minor=24_000_000,
    )  # fmt: skip
    await event(
        three, piotr, "lost", "2026-11-16 12:00", stage_seconds=6 * DAY + 3 * HOUR,
        from_stage_id="offer_sent", reason_id=reasons["financing"],
        text='Leasing nie przeszedł – bank odmówił ("zbyt młoda firma")',
        due_at=moment("2026-12-16 12:00"), amount_minor=24_000_000,
        data=snapshot(None, None, 24_000_000),
    )  # fmt: skip

    # #4: open; a mis-tapped move to "offer sent" taken back 20 seconds later.
    four = await deal(
        4,
        "Grzegorz Brzęczyszczykiewicz",
        piotr,
        "needs_identified",
        value_minor=9_500_000,
        next_contact_at=moment("2026-11-18 09:00"),
        next_step="Oddzwonić po rozmowie z żoną",
        stage_entered_at=moment("2026-11-09 10:00"),
        created_at=moment("2026-11-05 10:00"),
        updated_at=moment("2026-11-09 10:05"),
    )
    await event(
        four, piotr, "created", "2026-11-05 10:00", stage_seconds=None,
        to_stage_id="new_lead", amount_minor=9_500_000, data={"source": "phone_call"},
    )  # fmt: skip
    await event(four, piotr, "activity", "2026-11-05 14:00", stage_seconds=None, activity="call")
    await event(
        four, piotr, "stage_changed", "2026-11-05 15:00", stage_seconds=5 * HOUR,
        from_stage_id="new_lead", to_stage_id="contacted", data=entered("2026-11-05 10:00"),
    )  # fmt: skip
    await event(
        four, piotr, "activity", "2026-11-06 09:00", stage_seconds=None, activity="message"
    )
    await event(
        four, piotr, "stage_changed", "2026-11-09 10:00", stage_seconds=3 * DAY + 19 * HOUR,
        from_stage_id="contacted", to_stage_id="needs_identified",
        data=entered("2026-11-05 15:00"),
    )  # fmt: skip
    mistap = await event(
        four, piotr, "stage_changed", "2026-11-09 10:00:20", stage_seconds=20,
        from_stage_id="needs_identified", to_stage_id="offer_sent",
        data=entered("2026-11-09 10:00"),
    )  # fmt: skip
    await event(
        four, piotr, "undone", "2026-11-09 10:00:40", stage_seconds=None,
        undoes_event_id=mistap,
    )  # fmt: skip
    await event(
        four, piotr, "follow_up_set", "2026-11-09 10:05", stage_seconds=None,
        due_at=moment("2026-11-18 09:00"), text="Oddzwonić po rozmowie z żoną",
    )  # fmt: skip

    # #5: a new lead (no source given), nothing planned yet (0005's seed moves it on).
    five = await deal(
        5,
        "Małgorzata Wójcik",
        aga,
        "new_lead",
        stage_entered_at=moment("2026-11-10 11:00"),
        created_at=moment("2026-11-10 11:00"),
        updated_at=moment("2026-11-10 11:30"),
    )
    await event(
        five, aga, "created", "2026-11-10 11:00", stage_seconds=None, to_stage_id="new_lead"
    )
    await event(five, aga, "activity", "2026-11-10 11:30", stage_seconds=None, activity="message")

    # #6: a returning client who put it off the same day.
    six = await deal(
        6,
        "Ewa Dąbrowska",
        aga,
        "new_lead",
        status="lost",
        value_minor=6_500_000,
        loss_reason_id=reasons["postponed"],
        loss_comment="Wraca w marcu, po premii",
        stage_entered_at=moment("2026-11-12 09:00"),
        created_at=moment("2026-11-12 09:00"),
        updated_at=moment("2026-11-12 16:00"),
        closed_at=moment("2026-11-12 16:00"),
    )
    await event(
        six, aga, "created", "2026-11-12 09:00", stage_seconds=None,
        to_stage_id="new_lead", amount_minor=6_500_000, data={"source": "returning"},
    )  # fmt: skip
    await event(six, aga, "activity", "2026-11-12 15:50", stage_seconds=None, activity="call")
    await event(
        six, aga, "lost", "2026-11-12 16:00", stage_seconds=7 * HOUR,
        from_stage_id="new_lead", reason_id=reasons["postponed"],
        text="Wraca w marcu, po premii", amount_minor=6_500_000,
        data=snapshot(None, None, 6_500_000),
    )  # fmt: skip

    # Reminders: a win-back and a handover already sent, one caught mid-send by a stop.
    for deal_id, member, kind, due, status, note, extra, created in (
        (one, aga, "winback", "2027-05-02 10:00", "pending", None, {}, "2026-11-03 10:00"),
        (
            one, aga, "next_contact", "2026-11-05 09:00", "cancelled", "Jazda próbna", {},
            "2026-10-22 10:01",
        ),
        (
            two, aga, "handover", "2026-11-20 10:00", "sent", None,
            {
                "attempts": 1,
                "claimed_at": moment("2026-11-20 10:00:02"),
                "sent_at": moment("2026-11-20 10:00:04"),
                "chat_message_id": 7342,
            },
            "2026-11-12 15:05",
        ),
        (
            three, piotr, "next_contact", "2026-11-06 09:00", "done", None,
            {"attempts": 1, "sent_at": moment("2026-11-06 09:00:03"), "chat_message_id": 7101},
            "2026-11-05 11:05",
        ),
        (three, piotr, "winback", "2026-12-16 12:00", "pending", None, {}, "2026-11-16 12:00"),
        (
            four, piotr, "next_contact", "2026-11-18 09:00", "sending",
            "Oddzwonić po rozmowie z żoną",
            {"attempts": 1, "claimed_at": moment("2026-11-18 09:00:01")},
            "2026-11-09 10:05",
        ),
    ):  # fmt: skip
        extra = {"attempts": 0, **extra}
        await w.insert(
            "reminder",
            # 0006: a reminder a stopped process left "sending" goes back to "pending".
            {"status": "pending"} if status == "sending" else None,
            team_id=team,
            deal_id=deal_id,
            member_id=member,
            kind=kind,
            due_at=moment(due),
            status=status,
            note=note,
            created_at=moment(created),
            **extra,
        )

    await w.insert(
        "conversationstate",
        user_id=AGNIESZKA,
        flow="nd",
        step="phone",
        data={"name": "Bożena Grabowska-Śliwa", "offer": "Škoda Octavia Combi „L&K”"},
        updated_at=moment("2026-11-20 07:55"),
    )
    for update_id, at in ((880_001, "2026-11-20 07:54"), (880_002, "2026-11-20 07:55")):
        await w.insert("processedupdate", update_id=update_id, at=moment(at))
    await w.insert("groupnotice", chat_id=-1001234567890, at=moment("2026-10-05 12:00"))
    return w.written
