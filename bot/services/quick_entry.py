"""One-line client entry: `Jan Kowalski +48 600 100 200 95000 Octavia` -> its fields.

Pure functions, no I/O. The same readers serve the guided flow's phone and amount steps
(`parse_phone`, `parse_amount`). Money is integer minor units (grosze, kopecks, bani): x100.

How a line is read (`parse_quick_entry`), in this order:

1. A leading bot command (`/new`, `/new@SomeBot`) is dropped. The line is split on whitespace
   (NBSP included); each piece is a token, and fields are always whole tokens.
2. Phone: the first run of phone-looking tokens (digits and `+()-./`) that phonenumbers calls a
   VALID number for the team's country. From each start the longest valid run wins; the PL, RU,
   RO and MD plans have fixed lengths, so the digits after a phone (an amount) make it invalid
   and are never swallowed. A run continues only in phone-like groups (a blob, a prefix and a
   blob, or groups of 2-4 digits), so `95000 2019` is never one phone. A label right before it
   (`tel.`, `тел.`, `nr`...) is dropped. Further valid numbers stay in the note, and so does a run
   that starts like a phone (`+48 600 100`, `(022) 123`) but is not a valid one. A line of digit
   soup is searched for a phone only as far as a fixed number of phonenumbers calls reaches; the
   rest of it goes to the note.
3. Amount: the first plausible amount among the tokens left (see `parse_amount` for the forms).
   Adjacent bare numbers are one amount only if they form digit groups (`1 250 000`); two adjacent
   bare numbers that could be fragments (`123 45`) are ambiguous and go to the note as typed.
   In a line (not in `parse_amount`), a number written with no currency, multiplier or grouping
   must also look like a price: at least 100, not a year (1900-2099, four digits), and fewer than
   nine digits (a longer bare number is a mistyped phone). A number followed by a unit that is not
   money (`km`, `KM`, `r.`, `л.с.`...) is not an amount. Later amounts stay in the note.
4. Name: the leading name-like words (letters of any script, `-'.&`, emoji), at most
   `MAX_NAME_LENGTH` characters. It stops at the phone or amount, at anything else (digits,
   brackets...), after a word ending in `,;:`, at a car make (`Skoda`...) or a phone label, and -
   when the name starts with a capital - at a lowercase word that is not a particle (`van`, `de`,
   `i`...).
5. Note: every other token, in order, joined by single spaces; separator tokens (`-`, `|`, `,`)
   at the edges of the note's pieces are dropped. None when nothing is left.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

MAX_NAME_LENGTH = 200
MAX_AMOUNT_UNITS = 10**12  # in major units; above this an amount is absurd


@dataclass(frozen=True)
class QuickEntry:
    name: str  # "" if none could be read
    phone: str | None  # E.164, e.g. "+48600100200"
    amount_minor: int | None  # 95000.00 -> 9500000
    note: str | None  # the rest, as typed (whitespace collapsed), or None


# --- vocabulary ------------------------------------------------------------------------------

_THOUSAND = 1_000
_MILLION = 1_000_000
_BILLION = 1_000_000_000


def _words(text: str) -> frozenset[str]:
    """A space-separated word list; words are compared casefolded."""
    return frozenset(text.split())


_MULTIPLIERS: dict[str, int] = {
    **dict.fromkeys(
        _words("k к tys tys. tysięcy tysiące тыс тыс. тысяч тысячи тысяча mii"), _THOUSAND
    ),
    **dict.fromkeys(
        _words(
            "m mln mln. млн млн. mil mil. milion miliony milionów milioane million миллион "
            "миллиона миллионов"
        ),
        _MILLION,
    ),
    **dict.fromkeys(_words("mld mld. mlrd млрд млрд. miliard miliarde"), _BILLION),
}

_CURRENCIES = _words(
    "zł zł. zl pln złotych zlotych ₽ руб руб. рублей р р. rub ron lei лей mdl € eur euro евро $ "
    "usd uah ₴ грн грн. byn kzt ₸ тг £ gbp"
)

# Units after a number that make it something other than money.
_NOT_MONEY_UNITS = _words(
    "km км tkm mi hp ps кс лс л.с. л.с kw квт cm3 ccm cc см3 l л r r. rok roku г г. год года "
    "лет lat lata an ani szt szt. шт шт. kg кг % x drzwi"
)

_PHONE_LABELS = _words(
    "tel tel. tel: telefon telefon: tlf tlf. nr nr. nr: № mob mob. mob: phone phone: ph ph. "
    "тел тел. тел: телефон телефон: моб моб. моб:"
)

# A car make ends the name: `Jan Nowak Skoda Octavia 600100200` -> name "Jan Nowak".
_CAR_MAKES = _words(
    "skoda škoda vw volkswagen toyota audi bmw mercedes mercedes-benz opel ford renault dacia "
    "kia hyundai lada nissan mazda honda peugeot citroen citroën fiat cupra volvo mitsubishi "
    "suzuki subaru lexus chevrolet jeep tesla porsche haval chery geely infiniti lancia шкода "
    "фольксваген тойота ауди бмв мерседес опель форд рено киа хендай хендэ хёндай ниссан мазда "
    "хонда пежо ситроен фиат вольво митсубиси мицубиси сузуки субару лексус шевроле джили чери "
    "хавал уаз"
)

# Lowercase words allowed inside a capitalised name.
_NAME_PARTICLES = _words(
    "van von der den de da di du la le del della dos das ibn bin al el y i și şi si и z ze zu o"
)
_NAME_CONNECTORS = frozenset(("&", "-", "–", "—"))
_NAME_PUNCTUATION = frozenset("-'’ʼ‘`.&")
_SEPARATOR_CHARS = frozenset("-–—,;:/|·•.")
_TRAILING_PUNCTUATION = ",;:!?"

_COMMAND = re.compile(r"/[A-Za-z0-9_]+(?:@[A-Za-z0-9_]+)?")
_PHONE_CHARS = frozenset("0123456789+()-./")
_PHONE_MAX_TOKENS = 6  # `+7 (916) 123 45 67`
_PHONE_PARSE_BUDGET = 400  # phonenumbers calls per line (~60 us each)
_PHONE_MIN_DIGITS = 6
_PHONE_MAX_DIGITS = 17

_NUMBER_TOKEN = re.compile(r"(?P<pre>[^0-9]*?)(?P<num>[0-9](?:[0-9.,]*[0-9])?)(?P<suf>[^0-9]*)")
_PLAIN = re.compile(r"(?P<int>[0-9]+)(?:[.,](?P<frac>[0-9]{1,2}))?")
_GROUPED = re.compile(
    r"(?P<int>[0-9]{1,3}(?P<sep>[.,])[0-9]{3}(?:(?P=sep)[0-9]{3})*)"
    r"(?:(?!(?P=sep))[.,](?P<frac>[0-9]{1,2}))?"
)
_GROUP_HEAD = re.compile(r"[1-9][0-9]{0,2}")
_GROUP = re.compile(r"[0-9]{3}")
_GROUP_LAST = re.compile(r"(?P<int>[0-9]{3})(?:[.,](?P<frac>[0-9]{1,2}))?")
_SHORT_BARE = re.compile(r"[0-9]{1,3}")


# --- phones ----------------------------------------------------------------------------------


def _region(country: str) -> str | None:
    region = country.strip().upper()
    return region if len(region) == 2 and region.isascii() and region.isalpha() else None


def _valid_e164(candidate: str, region: str | None) -> str | None:
    try:
        number = phonenumbers.parse(candidate, region)
    except NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def parse_phone(text: str, country: str) -> str | None:
    """A whole input that is one phone number (any common format; national numbers read for the
    team's `country`, a 2-letter region like "PL") -> E.164 if phonenumbers says it is a VALID
    number, else None. Letters anywhere (`Jan 600100200`, `1-800-FLOWERS`) -> None."""
    candidate = " ".join(text.split()).rstrip(_TRAILING_PUNCTUATION)
    if not candidate or not any(ch.isdigit() for ch in candidate):
        return None
    if not all(ch in _PHONE_CHARS or ch == " " for ch in candidate):
        return None
    return _valid_e164(candidate, _region(country))


def format_phone(e164: str) -> str:
    """International format for display, e.g. "+48 600 100 200" (phonenumbers INTERNATIONAL).
    Input that phonenumbers cannot read is returned unchanged."""
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return e164
    return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)


def _phone_piece(token: str) -> tuple[str, bool] | None:
    """A token that can be part of a phone -> (its phone text, whether it must end the phone)."""
    stripped = token.rstrip(_TRAILING_PUNCTUATION)
    if not stripped or not all(ch in _PHONE_CHARS for ch in stripped):
        return None
    if not any(ch.isdigit() for ch in stripped):
        return None
    return stripped, stripped != token


def _phone_at(
    tokens: list[str], start: int, region: str | None, budget: list[int]
) -> tuple[int, str] | None:
    """The longest run of tokens from `start` that is one valid phone -> (end, E.164).
    Each phonenumbers call takes one from `budget[0]`."""
    best: tuple[int, str] | None = None
    pieces: list[str] = []
    digits = 0
    for end in range(start, min(len(tokens), start + _PHONE_MAX_TOKENS)):
        piece = _phone_piece(tokens[end])
        if piece is None:
            break
        text, last = piece
        if pieces and not _phone_groups_plausible(pieces, text):
            break
        pieces.append(text)
        digits += _digit_count(text)
        if digits > _PHONE_MAX_DIGITS:
            break
        if digits >= _PHONE_MIN_DIGITS and budget[0] > 0:
            budget[0] -= 1
            e164 = _valid_e164(" ".join(pieces), region)
            if e164 is not None:
                best = (end + 1, e164)
        if last:
            break
    return best


def _digit_count(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


def _phone_groups_plausible(pieces: list[str], following: str) -> bool:
    """Whether `following` can continue a phone written as `pieces`. Phones are one blob, a
    prefix and a blob (`+48 600100200`, `0722 123456`, `8 9161234567`) or short groups; so
    `95000 2019`, `1500 95000`, `95 000 2019` and `1 2 3 4 5 6 7` are not one phone."""
    if _digit_count(pieces[-1]) > 4:
        return False
    if _digit_count(following) < 2 and not following.startswith("("):
        return False  # only a leading `8`/`0` stands alone
    prefixed = pieces[0][0] in "+(0" or pieces[0] == "8"
    if (
        not prefixed
        and following.isascii()
        and following.isdigit()
        and 1900 <= int(following) <= 2099
    ):
        return False  # `95 000 2019`: a price and a year, however valid as a phone
    if _digit_count(following) > 4:
        return all(_digit_count(piece) <= 3 or piece[0] in "+(0" for piece in pieces)
    return True


def _broken_phone_end(tokens: list[str], start: int) -> int | None:
    """`+48 600 100`, `(022) 123`: a run that starts like a phone but is not a valid one ->
    its end; such digits are never an amount."""
    first = _phone_piece(tokens[start])
    if first is None or first[0][0] not in "+(":
        return None
    pieces = [first[0]]
    end = start + 1
    while not first[1] and end < min(len(tokens), start + _PHONE_MAX_TOKENS):
        piece = _phone_piece(tokens[end])
        if piece is None or not _phone_groups_plausible(pieces, piece[0]):
            break
        pieces.append(piece[0])
        end += 1
        if piece[1]:
            break
    return end


def _find_phones(tokens: list[str], region: str | None) -> tuple[list[tuple[int, int, str]], int]:
    """Every valid phone, left to right, without overlaps -> ([(start, end, E.164)], searched):
    a line of digit soup exhausts `_PHONE_PARSE_BUDGET` and is searched only up to `searched`."""
    found: list[tuple[int, int, str]] = []
    budget = [_PHONE_PARSE_BUDGET]
    index = 0
    while index < len(tokens):
        if budget[0] <= 0:
            return found, index
        hit = _phone_at(tokens, index, region, budget)
        if hit is None:
            index += 1
            continue
        end, e164 = hit
        found.append((index, end, e164))
        index = end
    return found, len(tokens)


# --- amounts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _NumberToken:
    num: str  # digits with `.`/`,` separators
    pre_currency: bool  # a currency sign glued before: `€95000`
    multiplier: int | None  # glued after: `95k`
    currency: bool  # glued after: `95000zł`

    @property
    def has_suffix(self) -> bool:
        return self.multiplier is not None or self.currency


def _unit_variants(text: str) -> list[str]:
    folded = text.casefold()
    no_punct = folded.rstrip(_TRAILING_PUNCTUATION)
    return [folded, no_punct, no_punct.rstrip(".")]


def _read_units(text: str) -> tuple[int | None, bool] | None:
    """`""`, a multiplier, a currency or a multiplier+currency -> (multiplier, has currency)."""
    for variant in _unit_variants(text):
        if variant == "":
            return None, False
        if variant in _CURRENCIES:
            return None, True
        if variant in _MULTIPLIERS:
            return _MULTIPLIERS[variant], False
        for word, multiplier in _MULTIPLIERS.items():
            if variant.startswith(word) and variant[len(word) :] in _CURRENCIES:
                return multiplier, True
    return None


def _is_currency(token: str) -> bool:
    return any(variant in _CURRENCIES for variant in _unit_variants(token))


def _number_token(token: str) -> _NumberToken | None:
    match = _NUMBER_TOKEN.fullmatch(token)
    if match is None:
        return None
    pre = match["pre"]
    if pre and pre.casefold() not in _CURRENCIES:
        return None
    units = _read_units(match["suf"])
    if units is None:
        return None
    multiplier, currency = units
    return _NumberToken(match["num"], bool(pre), multiplier, currency)


@dataclass(frozen=True)
class _Value:
    amount: Decimal  # major units, before any multiplier
    grouped: bool  # thousands were written as groups
    single_group: bool  # `95.000`: one separator then three digits (ambiguous with a multiplier)
    year_like: bool
    bare_digits: int  # integer digits, for bare numbers


def _decimal(integer: str, fraction: str | None) -> Decimal:
    return Decimal(f"{integer}.{fraction}" if fraction else integer)


def _value_of(num: str) -> _Value | None:
    """One token's number: `95000`, `95000,50`, `95.000`, `1.250.000,50`, `1,2`."""
    plain = _PLAIN.fullmatch(num)
    if plain is not None:
        integer = plain["int"]
        if len(integer) > 1 and integer.startswith("0"):
            return None  # `0722`: a phone fragment, not money
        year_like = plain["frac"] is None and len(integer) == 4 and 1900 <= int(integer) <= 2099
        return _Value(_decimal(integer, plain["frac"]), False, False, year_like, len(integer))
    grouped = _GROUPED.fullmatch(num)
    if grouped is not None:
        integer = grouped["int"]
        if integer.startswith("0"):
            return None
        digits = integer.replace(".", "").replace(",", "")
        single = len(integer) <= 7
        return _Value(_decimal(digits, grouped["frac"]), True, single, False, len(digits))
    return None


def _space_grouped(nums: list[str]) -> _Value | None:
    """Tokens that together are one number in groups of three: `1 250 000`, `95 000,50`."""
    if len(nums) < 2 or _GROUP_HEAD.fullmatch(nums[0]) is None:
        return None
    if not all(_GROUP.fullmatch(num) for num in nums[1:-1]):
        return None
    last = _GROUP_LAST.fullmatch(nums[-1])
    if last is None:
        return None
    digits = "".join(nums[:-1]) + last["int"]
    return _Value(_decimal(digits, last["frac"]), True, False, False, len(digits))


@dataclass(frozen=True)
class _Read:
    """Tokens [start, end) read as one amount expression; `minor` None: not an amount."""

    start: int
    end: int
    minor: int | None
    plausible: bool  # good enough to take from a free-form line


def _minor_units(value: _Value, multiplier: int | None) -> int | None:
    if multiplier is not None and value.single_group:
        return None  # `1.250 mln`: thousands or a fraction? Don't guess.
    units = value.amount * (multiplier or 1)
    if units <= 0 or units > MAX_AMOUNT_UNITS:
        return None
    minor = units * 100
    if minor != minor.to_integral_value():
        return None
    return int(minor)


def _read_expression(
    tokens: list[str],
    start: int,
    first: int,
    nums: list[_NumberToken],
    value: _Value | None,
    limit: int,
    take_following: bool,
) -> _Read:
    """Finish one amount: `nums` cover tokens [first, first+len(nums)); an optional currency
    token sits at `start` < `first`; multiplier/currency tokens may follow if `take_following`."""
    end = first + len(nums)
    currency = start < first or nums[0].pre_currency or nums[-1].currency
    multiplier = nums[-1].multiplier
    if take_following:
        units = _read_units(tokens[end]) if end < limit and not nums[-1].has_suffix else None
        if units is not None:
            unit_multiplier, unit_currency = units
            if unit_multiplier is not None:  # `95 tys`, `95 тыс.руб.`
                multiplier = unit_multiplier
                currency = currency or unit_currency
                end += 1
            elif unit_currency and not currency:  # `95000 zł`
                currency = True
                end += 1
        if multiplier is not None and not currency and end < limit and _is_currency(tokens[end]):
            currency = True  # `95k zł`, `95 tys zł`
            end += 1
    if value is None:
        return _Read(start, end, None, False)
    if (
        not currency
        and end < limit
        and any(variant in _NOT_MONEY_UNITS for variant in _unit_variants(tokens[end]))
    ):
        return _Read(start, end + 1, None, False)  # `95 000 km`, `2019 r.`
    minor = _minor_units(value, multiplier)
    explicit = currency or multiplier is not None or value.grouped
    plausible = minor is not None and (
        explicit or (not value.year_like and value.amount >= 100 and value.bare_digits < 9)
    )
    return _Read(start, end, minor, plausible)


def _read_amounts_at(tokens: list[str], index: int, limit: int) -> list[_Read]:
    """The amount expression(s) starting at token `index` (before `limit`); [] if none."""
    start = index
    first = _number_token(tokens[index])
    if first is None:
        if index + 1 >= limit or not _is_currency(tokens[index]):
            return []
        first = _number_token(tokens[index + 1])
        if first is None or first.pre_currency:
            return []
        index += 1
    nums = [first]
    cursor = index + 1
    if not first.has_suffix:
        while cursor < limit:
            token = _number_token(tokens[cursor])
            if token is None or token.pre_currency:
                break
            nums.append(token)
            cursor += 1
            if token.has_suffix:
                break
    if len(nums) == 1:
        return [_read_expression(tokens, start, index, nums, _value_of(first.num), limit, True)]
    grouped = _space_grouped([num.num for num in nums])
    if grouped is not None:
        return [_read_expression(tokens, start, index, nums, grouped, limit, True)]
    if any(_SHORT_BARE.fullmatch(num.num) for num in nums):
        return [_Read(start, cursor, None, False)]  # `123 45`: fragments of what? Don't guess.
    reads = []
    for offset, num in enumerate(nums):
        last = offset == len(nums) - 1
        lead = start if offset == 0 else index + offset
        reads.append(
            _read_expression(tokens, lead, index + offset, [num], _value_of(num.num), limit, last)
        )
    return reads


def parse_amount(text: str) -> int | None:
    """A whole input that is one amount -> minor units, or None if it is not a positive amount.

    `95000`, `95 000` (space or NBSP), `95.000`/`95,000` (three digits after one separator are
    thousands), `1 250 000`, `1.250.000,50`, `95000,50`/`95000.50` (one or two decimals), with a
    multiplier (`95k`, `95 tys.`, `95 тыс`, `95 mii`; `1,2 млн`, `1.2 mln`, `1.2m`, `1,2 mil`,
    `1.2 milioane`) and a currency before or after (`zł`, `PLN`, `₽`, `руб.`, `р.`, `RON`, `lei`,
    `MDL`, `€`, `EUR`, `$`...). None for zero, negatives, more than 10^12 units, leading zeros
    (`0722`), `95.000 k` (thousands or a fraction?) and anything left over."""
    tokens = text.split()
    if not tokens:
        return None
    reads = _read_amounts_at(tokens, 0, len(tokens))
    if len(reads) != 1 or reads[0].end != len(tokens):
        return None
    return reads[0].minor


# --- names -----------------------------------------------------------------------------------


def _is_separator(token: str) -> bool:
    return all(ch in _SEPARATOR_CHARS for ch in token)


def _name_word(token: str) -> tuple[str, bool] | None:
    """A token that can be part of a name -> (the word, whether the name ends after it)."""
    word = token.rstrip(",;:")
    ends = word != token
    if not word or not all(_is_name_char(ch) for ch in word):
        return None
    if word in _NAME_CONNECTORS:
        return word, ends
    if not any(
        unicodedata.category(ch)[0] == "L" or unicodedata.category(ch) == "So" for ch in word
    ):
        return None
    return word, ends


def _is_name_char(ch: str) -> bool:
    if ch in _NAME_PUNCTUATION:
        return True
    category = unicodedata.category(ch)
    # letters, combining marks, emoji (So), skin tones (Sk), joiners (Cf)
    return category[0] in "LM" or category in ("So", "Sk", "Cf")


def _initial_case(word: str) -> str:
    for ch in word:
        if ch.isupper():
            return "upper"
        if ch.islower():
            return "lower"
    return ""


def _read_name(tokens: list[str], taken: list[bool], start: int) -> tuple[list[int], str]:
    """Leading name words from `start` -> (their token indexes, the name)."""
    indexes: list[int] = []
    words: list[str] = []
    capitalised = False
    index = start
    while index < len(tokens) and not taken[index]:
        read = _name_word(tokens[index])
        if read is None:
            break
        word, ends = read
        folded = word.casefold()
        if folded in _PHONE_LABELS or (words and folded in _CAR_MAKES):
            break
        case = _initial_case(word)
        if not words:
            capitalised = case == "upper"
        elif (
            capitalised
            and case == "lower"
            and folded not in _NAME_PARTICLES
            and words[-1] not in _NAME_CONNECTORS
        ):
            break
        if len(" ".join([*words, word])) > MAX_NAME_LENGTH:
            break
        indexes.append(index)
        words.append(word)
        index += 1
        if ends:
            break
    while words and (
        words[-1] in _NAME_CONNECTORS
        or (len(words) > 1 and words[-1].casefold() in _NAME_PARTICLES)
    ):
        words.pop()
        indexes.pop()
    if words and words[0] in _NAME_CONNECTORS:
        return [], ""
    return indexes, " ".join(words)


# --- the line --------------------------------------------------------------------------------


def parse_quick_entry(text: str, country: str) -> QuickEntry:
    """Split one line into name, phone, amount and note; see the module docstring for the rules.
    Never raises; whatever cannot be read with confidence ends up in the note."""
    tokens = text.split()
    if tokens and _COMMAND.fullmatch(tokens[0]):
        tokens = tokens[1:]
    count = len(tokens)
    taken = [False] * count  # read into a field (or dropped): not part of the note
    keep = [False] * count  # must stay in the note: a barrier for amounts

    phones, searched = _find_phones(tokens, _region(country))
    for index in range(searched, count):
        keep[index] = True  # not searched for phones: nothing there may become an amount
    phone: str | None = None
    for start, end, e164 in phones:
        if phone is None:
            phone = e164
            for index in range(start, end):
                taken[index] = True
            if start > 0 and tokens[start - 1].casefold() in _PHONE_LABELS:
                taken[start - 1] = True
        else:
            for index in range(start, end):
                keep[index] = True

    for index in range(count):
        if not taken[index] and not keep[index]:
            broken = _broken_phone_end(tokens, index)
            for position in range(index, broken or index):
                keep[position] = True

    amount: int | None = None
    index = 0
    while index < count:
        if taken[index] or keep[index]:
            index += 1
            continue
        limit = index
        while limit < count and not taken[limit] and not keep[limit]:
            limit += 1
        reads = _read_amounts_at(tokens, index, limit)
        if not reads:
            index += 1
            continue
        for read in reads:
            if amount is None and read.plausible and read.minor is not None:
                amount = read.minor
                for position in range(read.start, read.end):
                    taken[position] = True
        index = reads[-1].end

    start = 0
    while start < count and not taken[start] and _is_separator(tokens[start]):
        taken[start] = True
        start += 1
    note_tokens = list(tokens)
    name = ""
    if start < count and not taken[start]:
        first = _name_word(tokens[start])
        if first is not None and len(first[0]) > MAX_NAME_LENGTH:
            name = first[0][:MAX_NAME_LENGTH]
            note_tokens[start] = tokens[start][MAX_NAME_LENGTH:]
        else:
            indexes, name = _read_name(tokens, taken, start)
            for position in indexes:
                taken[position] = True

    return QuickEntry(name, phone, amount, _note(note_tokens, taken))


def _note(tokens: list[str], taken: list[bool]) -> str | None:
    pieces: list[list[str]] = [[]]
    for token, was_taken in zip(tokens, taken, strict=True):
        if was_taken:
            if pieces[-1]:
                pieces.append([])
        else:
            pieces[-1].append(token)
    words: list[str] = []
    for piece in pieces:
        begin, end = 0, len(piece)
        while begin < end and _is_separator(piece[begin]):
            begin += 1
        while end > begin and _is_separator(piece[end - 1]):
            end -= 1
        words.extend(piece[begin:end])
    return " ".join(words) or None
