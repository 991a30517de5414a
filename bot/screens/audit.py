"""The audit as managers read it (/team → 🧾 Audit): one line per entry, newest first, in the
reader's language and the team's time zone. An entry names people by their membership (shown
with their current name) and deals by number; it holds nothing of a client."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.domain import AuditAction, Role
from bot.handlers.common import h
from bot.handlers.labels import REASON_NAMES, STAGE_NAMES, target_text, working_hours
from bot.i18n import N_, Translator
from bot.storage.models import AuditEntry, Team

PAGE_SIZE = 10


def audit_lines(
    t: Translator, team: Team, entries: list[AuditEntry], people: Mapping[int, str]
) -> list[str]:
    return [
        f"<i>{t.date(entry.at)}, {t.time(entry.at)}</i> · {_line(t, team, entry, people)}"
        for entry in entries
    ]


def _line(t: Translator, team: Team, entry: AuditEntry, people: Mapping[int, str]) -> str:
    def person(member_id: Any) -> str:
        name = people.get(member_id) if isinstance(member_id, int) else None
        return h(name) if name else "—"

    who = person(entry.actor_member_id)
    member = person(entry.member_id)
    detail = entry.detail or {}
    n = entry.count or 0
    action = entry.action
    if action == AuditAction.EXPORT and detail.get("what") == "resignations":
        return t.ngettext(
            "📦 {who} exported the resignations: {n} row",
            "📦 {who} exported the resignations: {n} rows",
            n,
        ).format(who=who, n=t.number(n))
    if action == AuditAction.EXPORT:
        return t.ngettext(
            "📦 {who} exported the team's deals: {n} deal with its history",
            "📦 {who} exported the team's deals: {n} deals with their history",
            n,
        ).format(who=who, n=t.number(n))
    if action == AuditAction.CLIENT_EXPORT:
        return t._("📇 {who} exported everything about the client of #{number}").format(
            who=who, number=detail.get("deal", "?")
        )
    if action == AuditAction.IMPORT:
        return t.ngettext(
            "📥 {who} imported {n} client", "📥 {who} imported {n} clients", n
        ).format(who=who, n=t.number(n))
    if action == AuditAction.ERASURE:
        return t._("🧹 {who} erased the personal data of the client of #{number}").format(
            who=who, number=detail.get("deal", "?")
        )
    if action == AuditAction.RETENTION_ERASURE:
        return t.ngettext(
            "🧹 Data retention erased the personal data of {n} client closed long ago",
            "🧹 Data retention erased the personal data of {n} clients closed long ago",
            n,
        ).format(n=t.number(n))
    if action == AuditAction.ROLE and detail.get("role") == Role.MANAGER:
        return t._("👑 {who} made {member} a manager").format(who=who, member=member)
    if action == AuditAction.ROLE:
        return t._("👤 {who} made {member} a salesperson").format(who=who, member=member)
    if action == AuditAction.ACCESS_OFF:
        return t._("⛔ {who} turned off access for {member}").format(who=who, member=member)
    if action == AuditAction.ACCESS_ON:
        return t._("✅ {who} gave {member} access again").format(who=who, member=member)
    if action == AuditAction.HANDOVER:
        return t.ngettext(
            "📦 {who} handed {n} deal of {member} over to {to}",
            "📦 {who} handed {n} deals of {member} over to {to}",
            n,
        ).format(who=who, n=t.number(n), member=member, to=person(detail.get("to")))
    if action == AuditAction.INVITE:
        return t._("🔄 {who} made a new invite link").format(who=who)
    if action == AuditAction.SETTING:
        return _setting(t, team, who, member, detail)
    return f"{h(action)} · {who}"


def _setting(t: Translator, team: Team, who: str, member: str, detail: Mapping[str, Any]) -> str:
    setting = str(detail.get("setting", ""))
    old, new = detail.get("old"), detail.get("new")
    if setting in ("stage", "reason"):
        return _list_entry(t, who, setting, detail)
    if setting == "target" and member != "—":
        return t._("🎯 {who} set the target of {member}: {value}").format(
            who=who, member=member, value=_value(t, team, setting, new)
        )
    names = {
        "name": t._("the team name"),
        "tz": t._("the time zone"),
        "cur": t._("the currency"),
        "cc": t._("the phone country"),
        "dh": t._("the digest time"),
        "ey": t._("data retention"),
        "hours": t._("the working hours"),
        "target": t._("the team's target"),
    }
    return t._("⚙️ {who} changed {setting}: {old} → {new}").format(
        who=who,
        setting=names.get(setting, h(setting)),
        old=_value(t, team, setting, old),
        new=_value(t, team, setting, new),
    )


def _value(t: Translator, team: Team, setting: str, value: Any) -> str:
    if setting == "tz" and isinstance(value, str):
        return h(t.timezone_name(value))
    if setting == "cc" and isinstance(value, str):
        return h(t.country_name(value))
    if setting == "dh" and isinstance(value, int):
        return f"{value:02d}:00"
    if setting == "ey":
        if not value:
            return t._("kept for good")
        return t.ngettext("{n} year", "{n} years", int(value)).format(n=t.number(int(value)))
    if setting == "hours" and isinstance(value, list) and len(value) == 3:
        return h(working_hours(t, *(int(part) for part in value)))
    if setting == "target" and isinstance(value, list) and len(value) == 2:
        return h(target_text(t, value[0], value[1], team.currency))
    return h(str(value)) if value not in (None, "") else "—"


# A change of the pipeline or of the loss reasons: (the stage's line, the loss reason's line).
LIST_CHANGES = {
    "add": (N_("⚙️ {who} added the stage {name}"), N_("⚙️ {who} added the loss reason {name}")),
    "rename": (
        N_("⚙️ {who} renamed the stage {old} to {new}"),
        N_("⚙️ {who} renamed the loss reason {old} to {new}"),
    ),
    "order": (N_("⚙️ {who} moved the stage {name}"), N_("⚙️ {who} moved the loss reason {name}")),
    "retire": (
        N_("⚙️ {who} retired the stage {name}"),
        N_("⚙️ {who} retired the loss reason {name}"),
    ),
    "restore": (
        N_("⚙️ {who} brought back the stage {name}"),
        N_("⚙️ {who} brought back the loss reason {name}"),
    ),
}


def _list_entry(t: Translator, who: str, setting: str, detail: Mapping[str, Any]) -> str:
    """A stage or loss reason added, renamed, moved, retired or brought back."""
    defaults, context = (STAGE_NAMES, "stage") if setting == "stage" else (REASON_NAMES, "reason")
    key = str(detail.get("key") or "")

    def name(value: Any) -> str:
        if value:
            return h(str(value))
        return h(t.pgettext(context, defaults[key])) if key in defaults else "—"

    change = str(detail.get("change") or "restore")
    lines = LIST_CHANGES.get(change, LIST_CHANGES["restore"])
    line = lines[0] if context == "stage" else lines[1]
    text = t._(line)
    new = name(detail.get("new"))
    return text.format(who=who, name=new, new=new, old=name(detail.get("old")))
