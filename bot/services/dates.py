"""When to contact a client next: free text in pl/ru/ro/en -> an exact UTC moment.

Salespeople type things like "jutro 10", "в пятницу в 15", "peste 3 zile" or "15.12 14:30" on a
phone keyboard. Every wall time is local to the team's time zone and built first as a naive local
datetime, then converted with zoneinfo (a missing wall time moves forward by the gap, an ambiguous
one takes its first occurrence), so 09:00 stays 09:00 on both sides of a DST change.

dateparser reads month-name dates ("15 grudnia", "15 декабря", "15 decembrie", "15 dec") and
relative phrases ("za 3 dni", "через 2 часа", "in 3 days", "next week"). Small rules of our own
complete it where it reads wrongly: a clock time is split off first ("o 10", "в 10", "la 10",
"10am", "15h", "10 rano"), day words and weekdays are looked up in a table (dateparser keeps the
time of "now" for "jutro o 10", reads "в 10" as the 10th of the month and "pt 15" as a day),
numeric dates are read strictly ("15.12" is a date, never 15:12; "32.13" is nothing), and a date
without a year is the next such date, unless it passed within the last RECENT_PAST_DAYS days: on
3 December "2.12" is a typo or yesterday, refused as "past" rather than silently moved to next
December ("15.01" still means next January; "2.12.2027" is taken as written).

Anything not clearly one moment is "unreadable"; a moment not after `now` is "past".

`parse_when_and_step` also keeps what was typed around the moment as the planned next step:
"jutro 10:00 zadzwonić w sprawie leasingu" -> (tomorrow 10:00, "zadzwonić w sprawie leasingu").
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from babel.dates import get_month_names
from dateparser.date import DateDataParser

LANGUAGES: tuple[str, ...] = ("pl", "ru", "ro", "en")

PRESET_NAMES: tuple[str, ...] = (
    "in_1_hour",
    "tomorrow_morning",
    "in_2_days",
    "next_monday",
    "next_week",
    "in_1_month",
    "in_3_months",
    "in_6_months",
    "in_12_months",
)

# A year-less day-month that passed at most this many days ago is "past", not next year's.
RECENT_PAST_DAYS = 60

_PRESET_DAYS = {"tomorrow_morning": 1, "in_2_days": 2, "next_week": 7}
_PRESET_MONTHS = {"in_1_month": 1, "in_3_months": 3, "in_6_months": 6, "in_12_months": 12}


class WhenError(ValueError):
    """The text does not name one future moment. `reason` is "unreadable" or "past"."""

    UNREADABLE = "unreadable"
    PAST = "past"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- public API -----------------------------------------------------------------------------


def parse_when(
    text: str, *, language: str, tz: str, now: datetime, default_hour: int = 9
) -> datetime:
    """Read `text` as a moment local to `tz`; return it as an aware UTC datetime.

    `now` is timezone-aware; `language` (en/pl/ru/ro) is tried first, the other three after it.
    Raises WhenError("unreadable") or WhenError("past") (not strictly after `now`).
    """
    if not 0 <= default_hour <= 23:
        raise ValueError(f"default_hour out of range: {default_hour}")
    ctx = _Context.make(tz, now, language, default_hour)
    normal = _normalize(text)
    if not normal:
        raise WhenError(WhenError.UNREADABLE)
    folded = _fold(normal)

    for date_text, date_folded, match in _time_splits(normal, folded):
        clock = _clock(match)
        if clock is None:
            continue
        if not date_text:
            if clock.dotted and not clock.firm:
                continue  # "15.12" alone is a date, not 15:12
            return ctx.finish(ctx.next_occurrence(clock.value))
        # Before the date only a bare hour counts, and only before a day word: "10 jutro" is
        # 10:00, but "15 dec 27" and "15.12 jutro" hold no clock time.
        if (
            match.start() == 0
            and not clock.firm
            and (clock.dotted or _day_word(_tokens(date_folded), ctx.today) is None)
        ):
            continue
        plan = _read_date(date_text, date_folded, ctx)
        if plan is None:
            continue
        if not isinstance(plan, date) or isinstance(plan, datetime):
            raise WhenError(WhenError.UNREADABLE)  # two times, e.g. "za 2 godziny o 10"
        return ctx.finish(ctx.to_utc(datetime.combine(plan, clock.value)))

    plan = _read_date(normal, folded, ctx)
    if plan is None:
        raise WhenError(WhenError.UNREADABLE)
    if isinstance(plan, timedelta):
        return ctx.finish(ctx.now + plan)
    if isinstance(plan, datetime):
        return ctx.finish(ctx.to_utc(plan))
    return ctx.finish(ctx.to_utc(datetime.combine(plan, time(default_hour))))


def parse_when_and_step(
    text: str, *, language: str, tz: str, now: datetime, default_hour: int = 9
) -> tuple[datetime, str | None]:
    """Read a moment and the planned next step typed with it, as `(moment, step)`: the moment
    as `parse_when` reads it (aware UTC), the step what else was typed (trimmed, runs of spaces
    and line breaks made one space, separators such as "," or "–" at the joint dropped), or None.

    "jutro 10:00 zadzwonić w sprawie leasingu" -> (tomorrow 10:00, "zadzwonić w sprawie
    leasingu"); "friday test drive" -> (Friday 09:00, "test drive"); "15.12" -> (…, None).
    The first reading that fits wins:
      1. the whole text is a moment, exactly as `parse_when` reads it; the step is None (in
         Romanian not when it leans on "sun", "sat" or "pt": "sun la 10" is "I call at 10",
         and only if nothing else reads, Sunday 10:00);
      2. the moment first: the longest run of (up to MAX_WHEN_WORDS) words at the start that
         reads; and if the last words read on their own and together with it, they belong to
         the moment too: "jutro zadzwonić o 10" -> (tomorrow 10:00, "zadzwonić");
      3. the moment last: the longest run of words at the end that reads, the step before it:
         "call about leasing tomorrow 10:00" -> (tomorrow 10:00, "call about leasing").
    A split leaving a day word ("jutro", "завтра", "mâine", "tomorrow", …) in the step is not
    taken: "sun mâine la 10" (ro: I call tomorrow at 10) is (tomorrow 10:00, "sun"), never
    Sunday. A bare number is never split off as a time ("2 auta jutro" is (tomorrow, "2
    auta"), "model 3" is unreadable), and a step after the moment may not start with a number
    ("jutro 25 aut" is unreadable: 25 is a failed time more likely than part of the step).
    A moment that reads but has passed ("wczoraj zadzwonić") raises WhenError("past"); a text
    in which no moment reads, WhenError("unreadable").
    """
    reading = _Reader(text, language, tz, now, default_hour)
    whole = reading.read(text)  # raises ValueError for a naive `now` or a wrong default_hour
    found = (
        (whole, None)
        if whole is not None and not reading.leans_on_plain(text)
        else reading.moment_first() or reading.moment_last()
    )
    if found is None and whole is not None:
        found = whole, None  # ro "sun" alone: Sunday after all
    if found is None:
        raise WhenError(WhenError.UNREADABLE)
    moment, step = found
    if isinstance(moment, WhenError):
        raise moment
    return moment, step


def preset(name: str, *, tz: str, now: datetime, morning_hour: int = 9) -> datetime:
    """The moment behind a quick button (see PRESET_NAMES), as an aware UTC datetime."""
    zone = ZoneInfo(tz)
    now_utc = _as_utc(now)
    if name == "in_1_hour":
        # Exactly an hour on the clock the user reads: 11:00:40 -> 12:00 (the seconds dropped),
        # never rounded up to a quarter ("in an hour" at 11:00 must not say 12:15).
        return (now_utc + timedelta(hours=1)).replace(second=0, microsecond=0)
    today = now_utc.astimezone(zone).date()
    if name in _PRESET_DAYS:
        day = today + timedelta(days=_PRESET_DAYS[name])
    elif name == "next_monday":
        day = today + timedelta(days=7 - today.weekday())
    elif name in _PRESET_MONTHS:
        day = _add_months(today, _PRESET_MONTHS[name])
    else:
        raise ValueError(f"unknown preset: {name!r}")
    return _to_utc(datetime.combine(day, time(morning_hour)), zone)


def later_today_hours(
    *, tz: str, now: datetime, until_hour: int = 20, count: int = 3
) -> list[datetime]:
    """Up to `count` whole local hours later today, each at least one hour after `now`, none
    after `until_hour`:00; aware UTC, ascending. Empty late in the evening."""
    zone = ZoneInfo(tz)
    now_utc = _as_utc(now)
    local_now = now_utc.astimezone(zone)
    earliest = now_utc + timedelta(hours=1)
    hours: list[datetime] = []
    for hour in range(local_now.hour + 1, min(until_hour, 23) + 1):
        if len(hours) >= count:
            break
        moment = _to_utc(datetime.combine(local_now.date(), time(hour)), zone)
        if moment >= earliest and (not hours or moment > hours[-1]):
            hours.append(moment)
    return hours


# --- the moment and the planned step ------------------------------------------------------

MAX_WHEN_WORDS = 8  # the longest moment split off a step: "the day after tomorrow at 10 am"
_MAX_TAIL_WORDS = 4  # a time after the step: "o godz. 10", "at 3 p.m."
_WORD = re.compile(r"\S+")
_JOINT = " ,;:-–—"  # what may stand between the moment and the step: "jutro 10 – zadzwonić"
_BARE_NUMBER = re.compile(r"[0-9]+")
_LETTER = re.compile(r"[^\W\d_]")
# Another language's weekday abbreviations that are everyday words in the user's: in Romanian
# "sun" is "I call", "sat" a village and "pt" short for "pentru". Alone they still read as days
# (parse_when), but never as the moment split off a step: "sun vineri la 15" is Friday.
_PLAIN_WORDS: dict[str, frozenset[str]] = {"ro": frozenset({"sun", "sat", "pt"})}

_Reading = datetime | WhenError  # a moment, or one that reads but has passed


class _Reader:
    """Splits one text into the moment and the step (see `parse_when_and_step`)."""

    def __init__(
        self, text: str, language: str, tz: str, now: datetime, default_hour: int
    ) -> None:
        self.text = text
        self.language, self.tz, self.now, self.default_hour = language, tz, now, default_hour
        self.spans = [match.span() for match in _WORD.finditer(text)]
        self.plain = _PLAIN_WORDS.get(language.split("-")[0].split("_")[0].lower(), frozenset())

    def leans_on_plain(self, part: str) -> bool:
        """Whether `part` holds a word of `_PLAIN_WORDS` for the user's language."""
        return bool(self.plain.intersection(_tokens(_fold(_normalize(part)))))

    def read_part(self, part: str) -> _Reading | None:
        """`read` for a part of the text, which must not lean on a word of `_PLAIN_WORDS`."""
        return None if self.leans_on_plain(part) else self.read(part)

    def read(self, part: str) -> _Reading | None:
        try:
            return parse_when(
                part,
                language=self.language,
                tz=self.tz,
                now=self.now,
                default_hour=self.default_hour,
            )
        except WhenError as error:
            return error if error.reason == WhenError.PAST else None

    def words(self, first: int, last: int) -> str:
        """The original text of words first..last-1 (as typed: case, accents, punctuation)."""
        return self.text[self.spans[first][0] : self.spans[last - 1][1]]

    def moment_first(self) -> tuple[_Reading, str | None] | None:
        count = len(self.spans)
        for end in range(min(count - 1, MAX_WHEN_WORDS), 0, -1):
            head = self.words(0, end)
            if all(_BARE_NUMBER.fullmatch(word) for word in head.split()):
                continue  # "2 auta jutro": 2 is not 02:00
            moment = self.read_part(head)
            if moment is None:
                continue
            for start in range(max(end + 1, count - _MAX_TAIL_WORDS), count):
                # A tail that reads on its own and with the head: "jutro zadzwonić o 10" (not
                # "… 15 min": "jutro o 10 min" reads, but "min" alone does not).
                tail = self.words(start, count)
                if _starts_bare(tail) or self.read_part(tail) is None:
                    continue
                both = self.read_part(f"{head} {tail}")
                if both is not None:
                    moment, step = both, _step(self.words(end, start))
                    break
            else:
                step = _step(self.words(end, count))
            if step is not None and _starts_with_number(step):
                return None  # "jutro 25 aut": the 25 did not read as a time
            return None if _names_a_day(step) else (moment, step)
        return None

    def moment_last(self) -> tuple[_Reading, str | None] | None:
        count = len(self.spans)
        for start in range(max(1, count - MAX_WHEN_WORDS), count):
            tail = self.words(start, count)
            if _starts_bare(tail):
                continue  # "model 3", "model 3 jutro": the 3 is not a time
            moment = self.read_part(tail)
            if moment is not None:
                step = _step(self.words(0, start))
                return None if _names_a_day(step) else (moment, step)
        return None


def _starts_bare(part: str) -> bool:
    return bool(_BARE_NUMBER.fullmatch(part.split()[0]))


def _starts_with_number(step: str) -> bool:
    first = step.split()[0]
    return not _LETTER.search(first) and any(c.isdigit() for c in first)


def _names_a_day(step: str | None) -> bool:
    """Whether a step still holds "jutro", "завтра", "mâine", …: then the split is wrong
    ("sun mâine la 10" is Romanian for "I call tomorrow at 10", not Sunday)."""
    return step is not None and any(
        word in _DAY_OFFSETS for word in _tokens(_fold(_normalize(step)))
    )


def _step(text: str) -> str | None:
    step = " ".join(text.split()).strip(_JOINT)
    return step or None


# --- context and conversions ----------------------------------------------------------------


def _as_utc(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(UTC)


def _to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    # fold=0: a wall time in a spring-forward gap is read with the offset before the gap (so it
    # lands after it: 02:30 -> 03:30), an ambiguous autumn one as its first occurrence.
    return local.replace(tzinfo=zone, fold=0).astimezone(UTC)


def _add_months(day: date, months: int) -> date:
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class _Context:
    zone: ZoneInfo
    now: datetime  # aware UTC
    local_now: datetime  # naive local wall time
    languages: tuple[str, ...]
    default_hour: int

    @classmethod
    def make(cls, tz: str, now: datetime, language: str, default_hour: int) -> _Context:
        zone = ZoneInfo(tz)
        now_utc = _as_utc(now)
        primary = language.split("-")[0].split("_")[0].lower()
        ordered = ((primary,) if primary in LANGUAGES else ()) + tuple(
            lang for lang in LANGUAGES if lang != primary
        )
        local_now = now_utc.astimezone(zone).replace(tzinfo=None)
        return cls(zone, now_utc, local_now, ordered, default_hour)

    @property
    def today(self) -> date:
        return self.local_now.date()

    def to_utc(self, local: datetime) -> datetime:
        return _to_utc(local, self.zone)

    def next_occurrence(self, clock: time) -> datetime:
        moment = self.to_utc(datetime.combine(self.today, clock))
        if moment <= self.now:
            moment = self.to_utc(datetime.combine(self.today + timedelta(days=1), clock))
        return moment

    def finish(self, moment: datetime) -> datetime:
        if moment <= self.now:
            raise WhenError(WhenError.PAST)
        return moment


# --- text clean-up --------------------------------------------------------------------------

_CEDILLA = str.maketrans({"ş": "ș", "ţ": "ț", "Ş": "ș", "Ţ": "ț"})
_FOLD_EXTRA = {"ł": "l", "Ł": "l", "ø": "o", "đ": "d"}


def _normalize(text: str) -> str:
    """Lower case, Romanian comma letters, single spaces, no trailing punctuation."""
    s = text.translate(_CEDILLA).lower().replace(",", " ")
    s = re.sub(r"\s+", " ", s).strip()
    return s.rstrip(".!?;:… ").strip()


@cache
def _fold_char(char: str) -> str:
    if char in _FOLD_EXTRA:
        return _FOLD_EXTRA[char]
    parts = unicodedata.normalize("NFD", char)
    if len(parts) > 1 and all(unicodedata.combining(p) for p in parts[1:]):
        return parts[0]
    return char


def _fold(text: str) -> str:
    """Drop diacritics one character for one character, so positions stay aligned."""
    return "".join(_fold_char(c) for c in text)


def _tokens(folded: str) -> list[str]:
    return [t.rstrip(".") for t in folded.split() if t.rstrip(".")]


# --- clock times ----------------------------------------------------------------------------

_PREP = r"o\s+godz(?:inie|\.)?|godz\.?|o|в|во|к|la\s+ora|la|ora|at|around|by"
_PART_AM = ("rano", "утра", "утром", "dimineata", "in the morning")
_PART_PM = (
    "wieczorem",
    "po poludniu",
    "popoludniu",
    "вечера",
    "вечером",
    "дня",
    "seara",
    "dupa-amiaza",
    "in the evening",
    "in the afternoon",
)
_PART_AFTERNOON = ("po poludniu", "popoludniu", "дня", "dupa-amiaza", "in the afternoon")
_PARTS = "|".join(re.escape(p) for p in sorted(_PART_AM + _PART_PM, key=len, reverse=True))
_CLOCK = (
    rf"(?:(?P<prep>{_PREP})\s+|@\s*)?"
    r"(?P<h>[0-9]{1,2})"
    r"(?:(?P<sep>[:.])(?P<m>[0-9]{2})|(?P<hsuf>h)(?P<hm>[0-9]{2})?)?"
    r"(?:\s*(?P<ampm>[ap])\.?m\.?"
    rf"|\s+(?P<part>{_PARTS})"
    r"|\s*(?P<unit>часов|часа|час|ч|godz\.?))?"
)
_TAIL_CLOCK = re.compile(rf"(?:^|\s){_CLOCK}$")
_HEAD_CLOCK = re.compile(rf"^{_CLOCK}(?=\s|$)")


@dataclass(frozen=True)
class _Clock:
    value: time
    firm: bool  # clearly a time: a preposition, a colon, am/pm, "h", "rano", ...
    dotted: bool  # "10.30": a time only after a date ("15.12" alone is a date)


def _time_splits(normal: str, folded: str) -> Iterator[tuple[str, str, re.Match[str]]]:
    """(date text, folded date text, clock match): the clock at the end, then at the start."""
    tail = _TAIL_CLOCK.search(folded)
    if tail:
        cut = tail.start()
        yield normal[:cut].strip(), folded[:cut].strip(), tail
    head = _HEAD_CLOCK.match(folded)
    if head and head.end() < len(folded):
        cut = head.end()
        yield normal[cut:].strip(), folded[cut:].strip(), head


def _clock(match: re.Match[str]) -> _Clock | None:
    hour = int(match["h"])
    minute_text = match["m"] or match["hm"]
    minute = int(minute_text) if minute_text else 0
    firm = bool(
        match["prep"]
        or match["sep"] == ":"
        or match["hsuf"]
        or match["ampm"]
        or match["part"]
        or match["unit"]
        or match.group(0).lstrip().startswith("@")
    )
    if match["ampm"]:
        if not 1 <= hour <= 12:
            raise WhenError(WhenError.UNREADABLE)
        hour = hour % 12 + (12 if match["ampm"] == "p" else 0)
    elif match["part"] in _PART_AM:
        if hour > 11:
            raise WhenError(WhenError.UNREADABLE)  # "12 rano": midnight or noon?
    elif match["part"] in _PART_AFTERNOON and hour == 12:
        pass  # "в 12 дня": noon
    elif match["part"]:
        if hour == 12:
            raise WhenError(WhenError.UNREADABLE)  # "12 wieczorem": noon or midnight?
        if hour < 12:
            hour += 12
    if hour > 23 or minute > 59:
        if firm:
            raise WhenError(WhenError.UNREADABLE)
        return None  # maybe a date after all: "24" or "15.75" fall through to the date rules
    return _Clock(time(hour, minute), firm, match["sep"] == ".")


# --- dates ----------------------------------------------------------------------------------

_DAY_OFFSETS: dict[str, int] = {
    "today": 0,
    "dzis": 0,
    "dzisiaj": 0,
    "сегодня": 0,
    "azi": 0,
    "astazi": 0,
    "tomorrow": 1,
    "tmrw": 1,
    "tmr": 1,
    "jutro": 1,
    "завтра": 1,
    "maine": 1,
    "day after tomorrow": 2,
    "the day after tomorrow": 2,
    "pojutrze": 2,
    "послезавтра": 2,
    "после завтра": 2,
    "poimaine": 2,
}

_WEEKDAY_WORDS: tuple[tuple[str, ...], ...] = (
    ("monday", "mon", "poniedzialek", "pon", "pn", "понедельник", "пн", "luni"),
    ("tuesday", "tue", "tues", "wtorek", "wt", "вторник", "вт", "marti"),
    ("wednesday", "wed", "sroda", "srode", "sr", "среда", "среду", "ср", "miercuri"),
    ("thursday", "thu", "thur", "thurs", "czwartek", "czw", "четверг", "чт", "joi"),
    ("friday", "fri", "piatek", "pt", "пятница", "пятницу", "пт", "vineri"),
    ("saturday", "sat", "sobota", "sobote", "sob", "суббота", "субботу", "сб", "sambata"),
    (
        "sunday",
        "sun",
        "niedziela",
        "niedziele",
        "nd",
        "ndz",
        "niedz",
        "воскресенье",
        "вс",
        "duminica",
    ),
)
_WEEKDAYS: dict[str, int] = {w: i for i, words in enumerate(_WEEKDAY_WORDS) for w in words}
_DAY_PREPS = frozenset({"w", "we", "в", "во", "on", "pe", "na", "на"})

_NUMERIC_DATE = re.compile(r"([0-9]{1,2})([./-])([0-9]{1,2})(?:\2([0-9]{4}|[0-9]{2}))?")
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_LETTERS = re.compile(r"[^\W\d_]{2}")
_SUB_DAY_UNIT = re.compile(
    r"\b(?:hours?|hrs?|minutes?|mins?|godzin\w*|godz|minut\w*|min|час\w*|минут\w*|мин"
    r"|ore|ora|secund\w*|seconds?|sekund\w*|секунд\w*)\b"
)

# What dateparser cannot read as typed: "za tydzień", "через неделю"-like phrases without a
# number, and Romanian "peste 2 ore" / "peste o săptămână".
_DP_ARTICLE = re.compile(
    r"^(za|через|peste|în|in) (?:o|un|una|a|an|one|jeden|jedną|jedna|один|одну|одна) "
)
_DP_BARE_UNIT = re.compile(
    r"^(za|через|peste|în|in) (?=(?:tydzie[nń]|godzin[eę]|miesi[aą]c|rok|dzie[nń]|minut[eę]"
    r"|неделю|час|месяц|год|день|минуту|săptămână|saptamana|oră|ora|lună|luna|zi|week|hour"
    r"|month|year|day|minute)\b)"
)

_DP_HALF_HOUR = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"\bp[oó]ł godziny\b", "30 minut"),
        (r"\bпол ?часа\b", "30 минут"),
        (r"\bhalf an hour\b", "30 minutes"),
        (r"\bjum[aă]tate de or[aă]\b", "30 de minute"),
    )
)

Plan = date | datetime | timedelta  # a day; a local wall time; an exact offset from now


def _read_date(normal: str, folded: str, ctx: _Context) -> Plan | None:
    """A date-like text as a plan, or None when it is not one (the caller tries another split)."""
    tokens = _tokens(folded)
    if not tokens or sum(token in _DAY_OFFSETS for token in tokens) > 1:
        return None  # "jutro pojutrze": dateparser would read one day word and drop the other
    day = _day_word(tokens, ctx.today)
    if day is not None:
        return day
    if len(tokens) == 1 and not _LETTERS.search(tokens[0]):
        return _numeric_date(tokens[0], ctx.today)
    if not _LETTERS.search(normal):
        return None
    return _dateparser_plan(normal, folded, ctx)


def _day_word(tokens: list[str], today: date) -> date | None:
    if len(tokens) > 1 and tokens[0] in _DAY_PREPS:
        tokens = tokens[1:]
    key = " ".join(tokens)
    if key in _DAY_OFFSETS:
        return today + timedelta(days=_DAY_OFFSETS[key])
    if key in _WEEKDAYS:
        return today + timedelta(days=(_WEEKDAYS[key] - today.weekday()) % 7 or 7)
    return None


def _numeric_date(token: str, today: date) -> date | None:
    iso = _ISO_DATE.fullmatch(token)
    if iso:
        return _checked_date(int(iso[1]), int(iso[2]), int(iso[3]))
    match = _NUMERIC_DATE.fullmatch(token)
    if not match:
        return None
    day, month = int(match[1]), int(match[3])
    if match[4] is None:
        return _next_date(month, day, today)
    year = int(match[4]) + (2000 if len(match[4]) == 2 else 0)
    return _checked_date(year, month, day)


def _checked_date(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise WhenError(WhenError.UNREADABLE) from None


def _next_date(month: int, day: int, today: date) -> date:
    """The first `day`.`month` on or after today (29.02 waits for a leap year). One that passed
    within the last RECENT_PAST_DAYS days (yesterday, or a typo) is WhenError("past"): moving it
    a year ahead would hide a live lead for a year. Further back, it is next year's."""
    for year in (today.year, today.year - 1):
        try:
            latest = date(year, month, day)
        except ValueError:
            continue
        if latest < today:
            if (today - latest).days <= RECENT_PAST_DAYS:
                raise WhenError(WhenError.PAST)
            break
    for year in range(today.year, today.year + 9):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    raise WhenError(WhenError.UNREADABLE)


@cache
def _month_words() -> dict[str, frozenset[int]]:
    """Folded month names and abbreviations (babel, all our languages) -> month numbers."""
    words: dict[str, set[int]] = {}
    for lang in LANGUAGES:
        for width in ("wide", "abbreviated"):
            for context in ("format", "stand-alone"):
                for number, name in get_month_names(width, context, lang).items():
                    word = _fold(name.lower()).rstrip(".")
                    if len(word) >= 3:
                        words.setdefault(word, set()).add(number)
    return {word: frozenset(numbers) for word, numbers in words.items()}


def month_named(word: str) -> int | None:
    """The month a word names in any of our languages ("listopad", "ноября", "noi", "Nov")."""
    folded = _fold(_normalize(word)).rstrip(".")
    numbers = _month_words().get(folded)
    return next(iter(numbers)) if numbers and len(numbers) == 1 else None


def _months_named(tokens: list[str]) -> set[int]:
    named: set[int] = set()
    for token in tokens:
        for word, numbers in _month_words().items():
            if token == word or (len(word) <= 4 and token.startswith(word)):
                named |= numbers
    return named


def _dateparser_plan(normal: str, folded: str, ctx: _Context) -> Plan | None:
    text = _DP_ARTICLE.sub(r"\1 1 ", normal)
    text = _DP_BARE_UNIT.sub(r"\1 1 ", text)
    text = re.sub(r"^peste ", "în ", text)
    for pattern, replacement in _DP_HALF_HOUR:
        text = pattern.sub(replacement, text)
    tokens = _tokens(folded)
    base = ctx.local_now.replace(second=0, microsecond=0)
    shift = timedelta(minutes=7) if base.hour < 23 else timedelta(minutes=-7)
    for language in ctx.languages:
        first = _dateparser(text, language, ctx, base)
        if first is None:
            continue
        value, period = first
        if not _uses_every_number(text, language, ctx, base, value):
            continue  # "jutro 25": dateparser read "jutro" and dropped the 25
        second = _dateparser(text, language, ctx, base + shift)
        if second is not None and second[0] - value == shift:
            # Relative to now: it moved with the base.
            delta = value - base
            if _SUB_DAY_UNIT.search(folded) or not delta or delta % timedelta(days=1):
                return delta
            return value.date()
        plan = _absolute_plan(value, period, tokens, ctx.today)
        if plan is not None:
            return plan
    return None


def _absolute_plan(value: datetime, period: str, tokens: list[str], today: date) -> Plan | None:
    """Trust an absolute dateparser reading only when the text names its month or weekday, and
    they agree: it reads English articles as numbers ("1 an" -> 1 January) and drops words."""
    if period != "day":
        return None  # "grudzień", "2027": no particular day
    months = _months_named(tokens)
    weekdays = {_WEEKDAYS[t] for t in tokens if t in _WEEKDAYS}
    if not months and not weekdays:
        return None
    if months and value.month not in months:
        return None
    if not months and weekdays and value.weekday() not in weekdays:
        return None  # "pt 10": dateparser's guess at the month does not fit
    numbers = [t for token in tokens for t in re.findall(r"[0-9]+", token)]
    if not any(len(n) == 4 for n in numbers):
        if len(numbers) > 1:
            raise WhenError(WhenError.UNREADABLE)  # "15 dec 27": a year or what?
        # The year is ours to choose (dateparser's may differ); the weekday must fit ours.
        value = datetime.combine(_next_date(value.month, value.day, today), value.time())
    if weekdays and value.weekday() not in weekdays:
        return None  # "pt 15 grudnia": 15 December 2026 is a Tuesday
    return value.date() if value.time() == time(0) else value


def _uses_every_number(
    text: str, language: str, ctx: _Context, base: datetime, value: datetime
) -> bool:
    """Whether changing any number in `text` changes the reading (dateparser drops some)."""
    for number in re.finditer(r"[0-9]+", text):
        bumped = f"{text[: number.start()]}{int(number[0]) + 1}{text[number.end() :]}"
        other = _dateparser(bumped, language, ctx, base)
        if other is not None and other[0] == value:
            return False
    return True


def _dateparser(
    text: str, language: str, ctx: _Context, base: datetime
) -> tuple[datetime, str] | None:
    parser = DateDataParser(
        languages=[language],
        settings={
            "TIMEZONE": ctx.zone.key,
            "RETURN_AS_TIMEZONE_AWARE": False,
            "RELATIVE_BASE": base,
            "PREFER_DATES_FROM": "future",
            "DATE_ORDER": "DMY",
        },
    )
    data = parser.get_date_data(text)
    if data.date_obj is None:
        return None
    value = data.date_obj
    if value.tzinfo is not None:
        value = value.astimezone(ctx.zone).replace(tzinfo=None)
    return value, data.period or "day"
