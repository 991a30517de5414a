"""The catalogs are complete, current and safe: every string translated (no fuzzy, no English
left over), the same placeholders, HTML tags and /commands as the source, button labels short
enough for a phone, and three plural forms chosen right in Polish, Russian and Romanian."""

from __future__ import annotations

import gettext
import re
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.i18n import LOCALES_DIR, I18n

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("pl", "ru", "ro")
BUTTON_LABEL_MAX = 32
# Message contexts whose strings appear on buttons (stage and reason names are buttons too).
SHOWN_ON_BUTTONS = {"button", "stage", "reason"}
# Strings that read the same in every language (icons, codes, brand names).
SAME_IN_EVERY_LANGUAGE: set[str] = set()

PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
TAG = re.compile(r"</?[a-z][a-z-]*[^>]*>")
COMMAND = re.compile(r"(?<![\w/])/[a-z_]+")


def _catalog(language: str) -> Catalog:
    with (LOCALES_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=language)


def _source() -> Catalog:
    with (LOCALES_DIR / "messages.pot").open("rb") as handle:
        return read_po(handle)


def _entries(catalog: Catalog) -> list[Message]:
    return [message for message in catalog if message.id]


def _key(message: Message) -> tuple[str | None, str]:
    msgid = message.id if isinstance(message.id, str) else message.id[0]
    return message.context, msgid


def _forms(value: str | tuple[str, ...] | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def test_the_template_holds_every_string_in_the_code() -> None:
    keywords = {
        "_": None,
        "ngettext": (1, 2),
        "pgettext": ((1, "c"), 2),
        "N_": None,
        "NP_": ((1, "c"), 2),
    }
    found = set()
    for _file, _line, message, _comments, context in extract_from_dir(
        str(ROOT / "bot"), keywords=keywords, comment_tags=()
    ):
        msgid = message if isinstance(message, str) else message[0]
        found.add((context, msgid))
    in_template = {_key(message) for message in _entries(_source())}
    missing = found - in_template
    first = sorted(missing, key=str)[:5]
    assert not missing, f"run scripts/update-catalogs; not in messages.pot: {first}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalog_follows_the_template(language: str) -> None:
    source = {_key(message) for message in _entries(_source())}
    catalog = {_key(message) for message in _entries(_catalog(language))}
    assert source - catalog == set(), "run scripts/update-catalogs"
    assert catalog - source == set(), "the catalog holds strings the code no longer uses"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_string_is_translated_and_none_is_fuzzy(language: str) -> None:
    catalog = _catalog(language)
    assert catalog.num_plurals == 3
    problems = []
    for message in _entries(catalog):
        forms = _forms(message.string)
        expected = 3 if message.pluralizable else 1
        if message.fuzzy:
            problems.append(("fuzzy", message.id))
        elif len(forms) != expected or not all(form.strip() for form in forms):
            problems.append(("untranslated", message.id))
    assert problems == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_english_left_over(language: str) -> None:
    left = [
        message.id
        for message in _entries(_catalog(language))
        if _forms(message.string)[:1] == _forms(message.id)[:1]
        and _forms(message.id)[0] not in SAME_IN_EVERY_LANGUAGE
    ]
    assert left == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_placeholders_tags_and_commands_match_the_source(language: str) -> None:
    problems = []
    for message in _entries(_catalog(language)):
        source_forms = _forms(message.id)
        for form in _forms(message.string):
            for pattern in (PLACEHOLDER, TAG, COMMAND):
                wanted = Counter(pattern.findall(source_forms[-1]))
                got = Counter(pattern.findall(form))
                if pattern is PLACEHOLDER:
                    # Placeholders may repeat or move; in a plural entry `{n}` may be left
                    # out of a form ("одна сделка").
                    optional = {"{n}"} if message.pluralizable else set()
                    if set(wanted) - optional != set(got) - optional:
                        problems.append((message.id, form, pattern.pattern))
                elif wanted != got:
                    problems.append((message.id, form, pattern.pattern))
    assert problems == []


@pytest.mark.parametrize("language", [*LANGUAGES, "en"])
def test_button_labels_fit_a_phone_screen(language: str) -> None:
    catalog = _source() if language == "en" else _catalog(language)
    too_long = []
    for message in _entries(catalog):
        if message.context not in SHOWN_ON_BUTTONS:
            continue
        label = _forms(message.id)[0] if language == "en" else _forms(message.string)[0]
        if len(label) > BUTTON_LABEL_MAX:
            too_long.append(label)
    assert too_long == []


# Plural form index (0 = one, 1 = few, 2 = many/other) for the counts issue 6 names.
PLURAL_INDEX = {
    "pl": {0: 2, 1: 0, 2: 1, 5: 2, 11: 2, 12: 2, 14: 2, 21: 2, 22: 1, 25: 2, 101: 2, 112: 2},
    "ru": {0: 2, 1: 0, 2: 1, 5: 2, 11: 2, 12: 2, 14: 2, 21: 0, 22: 1, 25: 2, 101: 0, 112: 2},
    "ro": {0: 1, 1: 0, 2: 1, 5: 1, 11: 1, 12: 1, 14: 1, 21: 2, 22: 2, 25: 2, 101: 1, 112: 1},
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_plural_rules_pick_the_right_form(language: str) -> None:
    catalog = _catalog(language)
    rule = gettext.c2py(catalog.plural_expr)
    chosen = {n: rule(n) for n in PLURAL_INDEX[language]}
    assert chosen == PLURAL_INDEX[language]


def test_people_count_reads_naturally(i18n: I18n) -> None:
    def people(language: str, n: int) -> str:
        t = i18n.translator(language)
        return t.ngettext(
            "👥 <b>{team}</b>: {n} person", "👥 <b>{team}</b>: {n} people", n
        ).format(team="T", n=n)

    assert people("en", 1).endswith("1 person") and people("en", 5).endswith("5 people")
    assert people("pl", 1).endswith("1 osoba")
    assert people("pl", 2).endswith("2 osoby") and people("pl", 5).endswith("5 osób")
    assert people("pl", 22).endswith("22 osoby") and people("pl", 112).endswith("112 osób")
    assert people("ru", 1).endswith("1 человек") and people("ru", 21).endswith("21 человек")
    assert people("ru", 3).endswith("3 человека") and people("ru", 5).endswith("5 человек")
    assert people("ro", 1).endswith("1 persoană") and people("ro", 2).endswith("2 persoane")
    assert people("ro", 20).endswith("20 de persoane") and people("ro", 101).endswith(
        "101 persoane"
    )


def test_translation_calls_are_never_aliased() -> None:
    """`b = t.pgettext; b("button", …)` hides strings from extraction (they would stay English
    in every language): translator methods must be called by their own names."""
    alias = re.compile(r"=\s*(?:\w+\.)*(?:_|gettext|ngettext|pgettext)\s*$", re.MULTILINE)
    offenders = [
        f"{path.relative_to(ROOT)}:{source[: match.start()].count(chr(10)) + 1}"
        for path in sorted((ROOT / "bot").rglob("*.py"))
        for source in [path.read_text(encoding="utf-8")]
        for match in alias.finditer(source)
    ]
    assert offenders == []


def test_no_translation_call_hides_inside_an_f_string() -> None:
    """Babel does not look inside f-string expressions: `f"{t._('x')}"` stays English."""
    hidden = re.compile(r"""\bf(["'])(?:(?!\1).)*\{[^}]*\b(?:_|gettext|ngettext|pgettext)\(""")
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "bot").rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if hidden.search(line)
    ]
    assert offenders == []


def test_a_counted_noun_always_comes_from_ngettext() -> None:
    """A count followed by a word ("{n} deals" would read "1 deals", "5 сделка") must be a
    plural entry. Labels like "New deals: {n}" need no agreement."""
    counted = re.compile(r"\{(?:n|count|total)\}\s+[^\W\d_]")
    plain = [
        message.id
        for message in _entries(_source())
        if not message.pluralizable and counted.search(str(message.id))
    ]
    assert plain == []
    assert [m.id for m in _entries(_source()) if "(s)" in str(m.id)] == []
