"""Text as people search and match it: one folding for names, companies, car models, import
headers and what is typed to find them."""

from __future__ import annotations

import re
import unicodedata

# Letters Unicode does not decompose into a base letter and a mark.
_UNDECOMPOSABLE = str.maketrans({"ł": "l", "đ": "d", "ø": "o", "ß": "ss", "ı": "i"})
_NOT_WORD = re.compile(r"[\W_]+")


def fold(text: str) -> str:
    """Casefolded, without diacritics or punctuation, single-spaced: "Łukasz Świątek" ->
    "lukasz swiatek", "Игорь Волков" -> "игорь волков", "Ștefan Țurcanu" -> "stefan turcanu",
    "Фёдор" -> "федор", "Wartość (PLN):" -> "wartosc pln". Both the comma-below and the cedilla
    forms of ș and ț fold to s and t."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    plain = plain.translate(_UNDECOMPOSABLE)
    return " ".join(_NOT_WORD.sub(" ", plain).split())


def search_key(*parts: str | None) -> str:
    """The stored key a client (or a deal's car model) is found by: its parts folded, joined."""
    return " ".join(folded for part in parts if part and (folded := fold(part)))
