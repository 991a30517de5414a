"""Translations (gettext catalogs compiled by Babel) and locale-aware formatting.

English is the source language. Every user-facing string goes through a `Translator`:
`t._("...")`, `t.ngettext("{n} deal", "{n} deals", n).format(n=n)`, `t.pgettext(ctx, "...")`.
Strings defined at import time are marked with `N_` and translated when shown.
Catalogs live in `locales/<lang>/LC_MESSAGES/messages.po` and are compiled to `.mo` at start.
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.core import get_global
from babel.dates import (
    format_date,
    format_datetime,
    format_skeleton,
    format_time,
    get_timezone_location,
)
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, get_currency_name
from babel.support import NullTranslations, Translations

from bot.domain import Language

log = logging.getLogger(__name__)

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"
TRANSLATED = (Language.PL, Language.RU, Language.RO)

# Language names are shown in their own language, never translated.
LANGUAGE_NAMES: dict[Language, str] = {
    Language.EN: "🇬🇧 English",
    Language.PL: "🇵🇱 Polski",
    Language.RU: "🇷🇺 Русский",
    Language.RO: "🇷🇴 Română",
}


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated later, where it is shown."""
    return message


def NP_(context: str, message: str) -> str:
    """Mark a string with a context (e.g. "button") for extraction; translate with pgettext."""
    return message


class CatalogError(RuntimeError):
    pass


# `Translator.day` in English: CLDR's en writes "December 4"; the bot writes "4 December".
_ENGLISH_DAYS = {
    "MMMMd": "d MMMM",
    "MMMMEd": "E, d MMMM",
    "yMMMMd": "d MMMM y",
    "yMMMMEd": "E, d MMMM y",
}


def _aware(moment: dt.datetime) -> dt.datetime:
    """A naive moment would be read in the server's zone: refuse it."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("the moment must be timezone-aware")
    return moment


def compile_catalogs(locales_dir: Path = LOCALES_DIR) -> list[Path]:
    """Compile every `.po` whose `.mo` is missing or older; returns the files written."""
    written = []
    for po_path in sorted(locales_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parent.parent.name)
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog, use_fuzzy=False)
        written.append(mo_path)
    return written


class Translator:
    """Messages and formatting for one language, in one team's time zone."""

    def __init__(self, language: Language, translations: NullTranslations, tz: str) -> None:
        self.language = language
        self.locale = Locale.parse(language.value)
        self._translations = translations
        self.tz = ZoneInfo(tz)

    # --- messages ---------------------------------------------------------------------
    def _(self, message: str) -> str:
        return self._translations.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._translations.ngettext(singular, plural, n)

    def pgettext(self, context: str, message: str) -> str:
        return str(self._translations.pgettext(context, message))

    # --- numbers and money ------------------------------------------------------------
    def number(self, value: int | float) -> str:
        return format_decimal(value, locale=self.locale)

    def percent(self, share: float | None) -> str:
        """`62,5 %`, `80%`; a share that cannot be worked out (nothing to divide) is `—`."""
        if share is None:
            return "—"
        pattern = copy.copy(self.locale.percent_formats[None])
        pattern.frac_prec = (0, 1)  # the locale's own spacing and sign, at most one decimal
        return pattern.apply(share, self.locale)

    def amounts(self, money: dict[str, int]) -> str:
        """Sums in several currencies (a deal keeps its own): `95 000 zł + 300 €`; none is `—`."""
        return " + ".join(self.money(v, c) for c, v in sorted(money.items()) if v) or "—"

    def money(self, amount_minor: int, currency: str) -> str:
        """`95 000 zł`, `95.000 RON`: whole amounts without decimals, as prices are written."""
        pattern = copy.copy(self.locale.currency_formats["standard"])
        amount = amount_minor / 100
        if amount_minor % 100 == 0:
            pattern.frac_prec = (0, 0)
            return pattern.apply(
                amount_minor // 100, self.locale, currency=currency, currency_digits=False
            )
        return pattern.apply(amount, self.locale, currency=currency)

    def currency_name(self, currency: str) -> str:
        return get_currency_name(currency, locale=self.locale)

    # --- dates and times (shown in the team's zone) -----------------------------------
    def local(self, moment: dt.datetime) -> dt.datetime:
        return moment.astimezone(self.tz)

    def datetime(self, moment: dt.datetime) -> str:
        """`15 grudnia, 14:30`."""
        return format_datetime(self.local(moment), "d MMMM, HH:mm", locale=self.locale)

    def date(self, day: dt.date | dt.datetime) -> str:
        if isinstance(day, dt.datetime):
            day = self.local(day).date()
        return format_date(day, "d MMMM yyyy", locale=self.locale)

    def days(self, first: dt.date, last: dt.date) -> str:
        """`23–29 listopada 2026`, `23 октября – 29 ноября 2026`: a run of days, the shared
        month and year written once."""
        if first == last:
            return self.date(first)
        if (first.year, first.month) == (last.year, last.month):
            return f"{format_date(first, 'd', locale=self.locale)}–{self.date(last)}"
        if first.year == last.year:
            return f"{format_date(first, 'd MMMM', locale=self.locale)} – {self.date(last)}"
        return f"{self.date(first)} – {self.date(last)}"

    def month(self, day: dt.date) -> str:
        """`listopad 2026`, `ноябрь 2026`: a month on its own (the stand-alone name)."""
        return format_date(day, "LLLL yyyy", locale=self.locale)

    def time(self, moment: dt.datetime) -> str:
        return format_time(self.local(moment), "HH:mm", locale=self.locale)

    def when(self, moment: dt.datetime, now: dt.datetime) -> str:
        """A planned moment as someone deciding by it reads it, in the team's zone: the day as
        `day()` writes it and the time, `pt., 4 grudnia, 14:00` (the coming week),
        `2 grudnia 2027, 10:00` (another year), `15 grudnia, 14:30` (as `datetime()`)."""
        return f"{self.day(moment, now)}, {self.time(_aware(moment))}"

    def day(self, value: dt.date | dt.datetime, now: dt.datetime) -> str:
        """A day relative to `now` (aware; both taken in the team's zone, a plain date as is):
        within the coming week (today and the six days after it) with the abbreviated weekday,
        `pt., 4 grudnia` / `пт, 4 декабря` / `vin., 4 decembrie` / `Fri, 4 December`; outside
        the current year with the year, `2 grudnia 2027` / `2 января 2027 г.`; otherwise the
        day and month, `15 grudnia`. Both at once near New Year: `sob., 2 stycznia 2027`.

        The patterns are CLDR's skeletons for the locale (MMMMEd, yMMMMEd, yMMMMd, MMMMd: the
        month in the genitive where the language needs it); English keeps the day-month order
        `datetime()` uses ("4 December", as en_GB), with a comma after the weekday."""
        day = self.local(_aware(value)).date() if isinstance(value, dt.datetime) else value
        today = self.local(_aware(now)).date()
        skeleton = ("y" if day.year != today.year else "") + (
            "MMMMEd" if 0 <= (day - today).days <= 6 else "MMMMd"
        )
        if self.language == Language.EN:
            return format_date(day, _ENGLISH_DAYS[skeleton], locale=self.locale)
        return format_skeleton(skeleton, day, locale=self.locale)

    def country_name(self, country: str) -> str:
        return self.locale.territories.get(country.upper(), country.upper())

    def timezone_name(self, tz: str) -> str:
        """`Polska (Warszawa)`, `Россия (Москва)`: the country and the city, without CLDR's
        "czas: …" / "…, летнее время" wrapping (which also names summer time in winter)."""
        city = self.timezone_city(tz)
        territory = get_global("zone_territories").get(tz)
        country = self.locale.territories.get(territory) if territory else None
        if not country or country == city:
            return city
        return f"{country} ({city})"

    def timezone_city(self, tz: str) -> str:
        """`Warszawa`, `Москва`: the zone's city, in this language."""
        return str(get_timezone_location(ZoneInfo(tz), locale=self.locale, return_city=True))


class I18n:
    """Loads the compiled catalogs once and hands out translators."""

    def __init__(self, locales_dir: Path = LOCALES_DIR) -> None:
        compile_catalogs(locales_dir)
        self._catalogs: dict[Language, NullTranslations] = {Language.EN: NullTranslations()}
        for language in TRANSLATED:
            mo_path = locales_dir / language.value / "LC_MESSAGES" / f"{DOMAIN}.mo"
            if not mo_path.exists():
                raise CatalogError(f"missing compiled catalog {mo_path}")
            with mo_path.open("rb") as mo_file:
                self._catalogs[language] = Translations(mo_file, domain=DOMAIN)

    def translator(self, language: str | Language, tz: str = "UTC") -> Translator:
        lang = Language(language) if language in Language._value2member_map_ else Language.EN
        return Translator(lang, self._catalogs[lang], tz)
