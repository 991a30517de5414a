"""Team rules (create, invite, join, roles, access) on both databases, without Telegram."""

from __future__ import annotations

import pytest

from bot.domain import DEFAULT_STAGE_KEYS, Role
from bot.services import teams
from bot.services.errors import Problem, RuleError
from bot.storage.db import Database
from bot.storage.models import Member, Team, User
from bot.storage.unit_of_work import UnitOfWork
from tests.conftest import FakeClock


async def _user(database: Database, clock: FakeClock, user_id: int, language: str = "pl") -> User:
    async with UnitOfWork(database.sessions, clock) as uow:
        user = await uow.users.add(
            User(
                id=user_id,
                first_name=f"U{user_id}",
                language=language,
                created_at=clock.now(),
                last_seen_at=clock.now(),
            )
        )
        await uow.commit()
    return user


async def _create(
    database: Database, clock: FakeClock, user: User, name: str = "Auto Nord"
) -> tuple[Team, Member]:
    async with UnitOfWork(database.sessions, clock) as uow:
        fresh = await uow.users.get(user.id)
        assert fresh is not None
        result = await teams.create_team(uow, fresh, name, clock.now(), allowed=True)
        await uow.commit()
    return result


async def _join(database: Database, clock: FakeClock, user: User, code: str) -> teams.JoinPlan:
    async with UnitOfWork(database.sessions, clock) as uow:
        fresh = await uow.users.get(user.id)
        assert fresh is not None
        plan = await teams.join_team(uow, fresh, code, clock.now())
        await uow.commit()
    return plan


async def _problem(coro: object) -> Problem:
    with pytest.raises(RuleError) as info:
        await coro  # type: ignore[misc]
    return info.value.problem


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("pl", ("Europe/Warsaw", "PLN", "PL")),
        ("ru", ("Europe/Moscow", "RUB", "RU")),
        ("ro", ("Europe/Bucharest", "RON", "RO")),
        ("en", ("Europe/London", "GBP", "GB")),
    ],
)
async def test_a_new_team_takes_defaults_from_the_founders_language(
    database: Database, clock: FakeClock, language: str, expected: tuple[str, str, str]
) -> None:
    founder = await _user(database, clock, 1, language)
    team, member = await _create(database, clock, founder, "  Kowalski &   Syn <VIP>  ")
    assert (team.timezone, team.currency, team.country) == expected
    assert team.name == "Kowalski & Syn <VIP>"
    assert member.role == Role.MANAGER
    async with UnitOfWork(database.sessions, clock) as uow:
        stages = await uow.teams.stages(team.id or 0)
        reasons = await uow.teams.loss_reasons(team.id or 0)
        user = await uow.users.get(1)
    assert [stage.key for stage in stages] == list(DEFAULT_STAGE_KEYS)
    assert len(reasons) == 9 and reasons[2].key == "financing" and reasons[2].winback_days == 30
    assert user is not None and user.team_id == team.id


async def test_team_names_are_checked(database: Database, clock: FakeClock) -> None:
    founder = await _user(database, clock, 1)
    assert await _problem(_create(database, clock, founder, "   ")) == Problem.NAME_EMPTY
    assert await _problem(_create(database, clock, founder, "x" * 65)) == Problem.NAME_TOO_LONG
    team, _ = await _create(database, clock, founder, "x" * 64)
    assert len(team.name) == 64


async def test_only_admins_create_teams_when_admins_are_set(
    database: Database, clock: FakeClock
) -> None:
    user = await _user(database, clock, 1)
    async with UnitOfWork(database.sessions, clock) as uow:
        problem = await _problem(teams.create_team(uow, user, "X", clock.now(), allowed=False))
    assert problem == Problem.NOT_ALLOWED_TO_CREATE


async def test_joining_with_an_invite_and_the_rules_around_it(
    database: Database, clock: FakeClock
) -> None:
    founder = await _user(database, clock, 1)
    seller = await _user(database, clock, 2, "ro")
    team, manager = await _create(database, clock, founder)
    assert team.invite_code and len(team.invite_code) >= 16

    plan = await _join(database, clock, seller, team.invite_code)
    assert plan.team.id == team.id and plan.leaving is None
    async with UnitOfWork(database.sessions, clock) as uow:
        member = await uow.teams.member(team.id or 0, seller.id)
    assert member is not None and member.role == Role.SALESPERSON and member.active

    # The same link works for many people, and twice for nobody.
    assert (
        await _problem(_join(database, clock, seller, team.invite_code))
        == Problem.ALREADY_IN_THIS_TEAM
    )
    assert (
        await _problem(_join(database, clock, seller, "nonexistent-code"))
        == Problem.INVALID_INVITE
    )
    third = await _user(database, clock, 3)
    await _join(database, clock, third, team.invite_code)

    # A new link revokes the old one.
    async with UnitOfWork(database.sessions, clock) as uow:
        fresh = await uow.teams.get(team.id or 0)
        assert fresh is not None
        new_code = await teams.renew_invite(uow, fresh, manager)
        await uow.commit()
    fourth = await _user(database, clock, 4)
    assert (
        await _problem(_join(database, clock, fourth, team.invite_code)) == Problem.INVALID_INVITE
    )
    await _join(database, clock, fourth, new_code)


async def test_one_team_at_a_time_and_the_last_manager_stays(
    database: Database, clock: FakeClock
) -> None:
    anna = await _user(database, clock, 1)
    boris = await _user(database, clock, 2)
    team_a, _ = await _create(database, clock, anna, "A")
    team_b, _ = await _create(database, clock, boris, "B")
    # Anna is A's only manager: she cannot leave it for B.
    assert (
        await _problem(_join(database, clock, anna, team_b.invite_code or ""))
        == Problem.LAST_MANAGER
    )
    # Celina moves from A to B: her A membership ends.
    celina = await _user(database, clock, 3)
    await _join(database, clock, celina, team_a.invite_code or "")
    plan = await _join(database, clock, celina, team_b.invite_code or "")
    assert plan.leaving is not None and plan.leaving.id == team_a.id
    async with UnitOfWork(database.sessions, clock) as uow:
        old = await uow.teams.member(team_a.id or 0, 3)
        user = await uow.users.get(3)
    assert old is not None and not old.active
    assert user is not None and user.team_id == team_b.id


async def test_roles_and_access(database: Database, clock: FakeClock) -> None:
    anna = await _user(database, clock, 1)
    team, boss = await _create(database, clock, anna)
    piotr = await _user(database, clock, 2)
    await _join(database, clock, piotr, team.invite_code or "")
    async with UnitOfWork(database.sessions, clock) as uow:
        seller = await uow.teams.member(team.id or 0, 2)
    assert seller is not None and seller.id is not None and boss.id is not None

    async def act(action: object) -> Member:
        async with UnitOfWork(database.sessions, clock) as uow:
            result = await action(uow)  # type: ignore[operator]
            await uow.commit()
        return result

    # The last manager cannot step down or be switched off.
    assert (
        await _problem(act(lambda uow: teams.set_role(uow, boss, boss.id, Role.SALESPERSON)))
        == Problem.LAST_MANAGER
    )
    assert (
        await _problem(act(lambda uow: teams.deactivate(uow, boss, boss.id, clock.now())))
        == Problem.LAST_MANAGER
    )
    # A salesperson cannot act as a manager.
    assert (
        await _problem(act(lambda uow: teams.set_role(uow, seller, boss.id, Role.SALESPERSON)))
        == Problem.STALE
    )

    promoted = await act(lambda uow: teams.set_role(uow, boss, seller.id, Role.MANAGER))
    assert promoted.role == Role.MANAGER
    again = await act(lambda uow: teams.set_role(uow, boss, seller.id, Role.MANAGER))
    assert again.role == Role.MANAGER
    # Now two managers: Anna may step down.
    stepped = await act(lambda uow: teams.set_role(uow, boss, boss.id, Role.SALESPERSON))
    assert stepped.role == Role.SALESPERSON

    off = await act(lambda uow: teams.deactivate(uow, promoted, boss.id, clock.now()))
    assert not off.active
    async with UnitOfWork(database.sessions, clock) as uow:
        user = await uow.users.get(1)
        assert user is not None
        assert await teams.active_membership(uow, user) is None
    # Switched off, she cannot come back through the link...
    assert (
        await _problem(_join(database, clock, anna, team.invite_code or ""))
        == Problem.DEACTIVATED_HERE
    )
    # ...but a manager can give access back.
    back = await act(lambda uow: teams.reactivate(uow, promoted, boss.id))
    assert back.active and back.role == Role.SALESPERSON


async def test_a_manager_never_reaches_another_teams_people(
    database: Database, clock: FakeClock
) -> None:
    anna = await _user(database, clock, 1)
    boris = await _user(database, clock, 2)
    _, boss_a = await _create(database, clock, anna, "A")
    _, boss_b = await _create(database, clock, boris, "B")
    async with UnitOfWork(database.sessions, clock) as uow:
        problem = await _problem(teams.deactivate(uow, boss_a, boss_b.id or 0, clock.now()))
    assert problem == Problem.STALE


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("join-AbCdEfGh12345678", "AbCdEfGh12345678"),
        ("https://t.me/crm_bot?start=join-AbCdEfGh_2345-678", "AbCdEfGh_2345-678"),
        ("  AbCdEfGh12345678 ", "AbCdEfGh12345678"),
        ("hello", None),
        ("join-<script>", None),
    ],
)
def test_invite_links_and_codes_are_read(text: str, code: str | None) -> None:
    assert teams.parse_invite(text) == code
