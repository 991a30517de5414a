"""Long texts become messages Telegram accepts: none over the limit, none empty, no tag cut in
half (each part parses as HTML on its own, as the fake Bot API's parser checks), nothing lost;
and the funnel picture draws every letter of the labels it is given."""

from __future__ import annotations

import re
from io import BytesIO

import pytest

from bot.handlers.common import MESSAGE_LIMIT, split_message
from tests.fakes.telegram_html import parse_html


def _plain(text: str) -> str:
    return parse_html(text).text


def test_lines_stay_whole_and_every_part_fits() -> None:
    lines = [
        f'<a href="https://t.me/bot?start=deal-{n}">#{n}</a> Клиент «Ромашка» {n}'
        for n in range(400)
    ]
    parts = split_message("\n".join(lines), 1000)
    assert len(parts) > 1
    assert all(len(part) <= 1000 for part in parts)
    rebuilt = [line for part in parts for line in part.split("\n")]
    assert rebuilt == lines
    for part in parts:
        parse_html(part)  # raises on a broken tag


def test_a_monstrous_line_is_cut_outside_tags_and_reopens_them() -> None:
    words = " ".join(f"słowo{n} <i>kursywa&amp;{n}</i>" for n in range(1500))
    line = f"<b>Bardzo długi komentarz: {words}</b>"
    parts = split_message(f"Nagłówek\n\n{line}\n\nKoniec", MESSAGE_LIMIT)
    assert len(parts) >= 3
    assert all(0 < len(part) <= MESSAGE_LIMIT for part in parts)
    parsed = [parse_html(part) for part in parts]
    # Every part that goes on with the long line is bold again from its first character.
    for part, result in zip(parts[1:], parsed[1:], strict=True):
        if "słowo" in part:
            assert part.startswith("<b>")
            assert any(e["type"] == "bold" and e["offset"] == 0 for e in result.entities)
    words_seen = re.findall(r"słowo\d+", " ".join(p.text for p in parsed))
    assert words_seen == [f"słowo{n}" for n in range(1500)]


def test_no_part_is_only_blank_lines() -> None:
    text = "a" * 50 + "\n" * 30 + "b" * 50 + "\n\n\n"
    parts = split_message(text, 60)
    assert parts == ["a" * 50, "b" * 50]


def test_a_line_without_spaces_is_cut_between_tags() -> None:
    line = "<b>" + "x" * 300 + "</b><i>" + "y" * 300 + "</i>"
    parts = split_message(line, 200)
    assert all(len(part) <= 200 for part in parts)
    assert "".join(_plain(part) for part in parts) == "x" * 300 + "y" * 300


@pytest.mark.parametrize("language", ["pl", "ru", "ro", "en"])
def test_the_funnel_picture_draws_every_letter(language: str) -> None:
    import matplotlib.image
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    from bot.charts import funnel_png

    labels = {
        "pl": ["Nowy lead", "Pierwszy kontakt", "Oferta wysłana", "Jazda próbna / negocjacje"],
        "ru": ["Новый лид", "Первый контакт", "Выявление потребностей", "Тест-драйв / торг"],
        "ro": ["Prospect nou", "Contactat", "Ofertă trimisă", "Test drive / negociere"],
        "en": ["New lead", "Contacted", "Offer sent", "Test drive / negotiation"],
    }[language]
    picture = funnel_png(
        "Воронка · Lejek · Pâlnie", [(label, n) for n, label in enumerate(labels)]
    )
    image = matplotlib.image.imread(BytesIO(picture))
    assert image.shape[0] > 200 and image.shape[1] > 400
    font = FT2Font(font_manager.findfont("DejaVu Sans"))
    missing = {char for label in labels for char in label if font.get_char_index(ord(char)) == 0}
    assert missing == set()
    # The labels are drawn: the same bars with other labels give another picture.
    other = funnel_png("Воронка · Lejek · Pâlnie", [("?", n) for n in range(len(labels))])
    assert other != picture
