"""Telegram-style parsing of formatted message text (HTML, MarkdownV2, legacy Markdown).

A pure-Python port of the rules TDLib applies (``td/telegram/MessageEntity.cpp``) when the Bot API
receives ``parse_mode``: the same accepted tags, the same entity decoding and the same error texts,
with byte offsets counted in the UTF-8 encoding of the original string. Entity offsets and lengths
in the result are in UTF-16 code units, as the Bot API reports them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "EntityParseError",
    "ParsedText",
    "parse_formatted",
    "parse_html",
    "parse_markdown",
    "parse_markdown_v2",
    "strip_whitespace",
    "utf16_len",
]

_SPACES = b" \t\r\n\0\v\f"
_HTML_TAGS = frozenset(
    {
        "a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins", "tg-spoiler",
        "tg-emoji", "tg-time", "span", "pre", "code", "blockquote",
    }
)  # fmt: skip
_SIMPLE_HTML_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
_MDV2_RESERVED = "_*[]()~`>#+-=|{}.!"


class EntityParseError(ValueError):
    """Formatted text Telegram would reject; ``str(exc)`` follows "can't parse entities: "."""


@dataclass(frozen=True)
class ParsedText:
    """Plain text and Bot API ``MessageEntity`` dicts (offsets in UTF-16 code units)."""

    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (what Telegram entity offsets count)."""
    return len(text.encode("utf-16-le")) // 2


def _is_space(c: int) -> bool:
    return c in _SPACES


def _is_alpha(c: int) -> bool:
    return 65 <= c <= 90 or 97 <= c <= 122


def _is_digit(c: int) -> bool:
    return 48 <= c <= 57


def _is_hex(c: int) -> bool:
    return _is_digit(c) or 65 <= c <= 70 or 97 <= c <= 102


def _is_alnum(c: int) -> bool:
    return _is_alpha(c) or _is_digit(c)


def _utf16_units_of_byte(c: int) -> int:
    """UTF-16 units contributed by a UTF-8 byte (0 for continuation bytes)."""
    if c & 0xC0 == 0x80:
        return 0
    return 2 if c >= 0xF0 else 1


class _Bytes:
    """A byte string that reads as 0 past its end, like TDLib's zero-terminated CSlice."""

    __slots__ = ("data", "size")

    def __init__(self, text: str) -> None:
        self.data = text.encode("utf-8", "surrogatepass")
        self.size = len(self.data)

    def __getitem__(self, i: int) -> int:
        return self.data[i] if i < self.size else 0

    def slice(self, start: int, end: int) -> bytes:
        return self.data[start:end]


def _decode_html_entity(text: _Bytes, pos: int) -> tuple[int, int]:
    """Return (code point, position after the entity) or (0, pos) if there is no entity at pos."""
    if text[pos] != ord("&"):
        return 0, pos
    end_pos = pos + 1
    res = 0
    if text[pos + 1] == ord("#"):
        end_pos += 1
        if text[pos + 2] == ord("x"):
            end_pos += 1
            while _is_hex(text[end_pos]):
                res = res * 16 + int(chr(text[end_pos]), 16)
                end_pos += 1
                if res >= 0x10FFFF:
                    return 0, pos
        else:
            while _is_digit(text[end_pos]):
                res = res * 10 + text[end_pos] - 48
                end_pos += 1
                if res >= 0x10FFFF:
                    return 0, pos
        if res == 0 or res >= 0x10FFFF or end_pos - pos >= 10:
            return 0, pos
    else:
        while _is_alpha(text[end_pos]):
            end_pos += 1
        name = text.slice(pos + 1, end_pos)
        named = {b"lt": "<", b"gt": ">", b"amp": "&", b"quot": '"'}.get(name)
        if named is None:
            return 0, pos
        res = ord(named)
    if text[end_pos] == ord(";"):
        end_pos += 1
    return res, end_pos


def _append_code_point(result: bytearray, cp: int) -> int:
    """Append a code point as UTF-8; returns its UTF-16 length."""
    result += chr(cp).encode("utf-8", "surrogatepass")
    return 2 if cp > 0xFFFF else 1


def _check_link(url: str) -> str | None:
    """A simplified ``LinkManager::check_link``: the normalized URL or None if it is not a link."""
    url = url.strip()
    if not url:
        return None
    lowered = url.lower()
    for scheme in ("http://", "https://", "tg://", "ton://"):
        if lowered.startswith(scheme):
            return url if len(url) > len(scheme) else None
    if "://" in url or lowered.startswith(("mailto:", "tel:", "javascript:")):
        return None
    host = url.split("/", 1)[0]
    if "." in host and " " not in host and not host.startswith(".") and not host.endswith("."):
        return "http://" + url
    return None


@dataclass
class _OpenTag:
    tag: str
    argument: str
    utf16_offset: int
    result_pos: int
    begin_pos: int
    extra: dict[str, str] = field(default_factory=dict)


def parse_html(source: str) -> ParsedText:
    """Parse Telegram HTML into plain text and entities; raise EntityParseError like Telegram."""
    text = _Bytes(source)
    result = bytearray()
    entities: list[dict[str, Any]] = []
    stack: list[_OpenTag] = []
    utf16_offset = 0
    i = 0
    while i < text.size:
        c = text[i]
        if c == ord("&"):
            cp, new_pos = _decode_html_entity(text, i)
            if cp != 0:
                utf16_offset += _append_code_point(result, cp)
                i = new_pos
                continue
        if c != ord("<"):
            result.append(c)
            utf16_offset += _utf16_units_of_byte(c)
            i += 1
            continue

        begin_pos = i
        i += 1
        if text[i] != ord("/"):
            while not _is_space(text[i]) and text[i] != ord(">"):
                i += 1
            if text[i] == 0:
                raise EntityParseError(f"Unclosed start tag at byte offset {begin_pos}")
            tag = text.slice(begin_pos + 1, i).lower().decode("utf-8", "replace")
            if tag not in _HTML_TAGS:
                raise EntityParseError(f'Unsupported start tag "{tag}" at byte offset {begin_pos}')
            argument = ""
            extra: dict[str, str] = {}
            while text[i] != ord(">"):
                while text[i] != 0 and _is_space(text[i]):
                    i += 1
                if text[i] == ord(">"):
                    break
                if text[i] == 0:
                    raise EntityParseError(f"Unclosed start tag at byte offset {begin_pos}")
                attr_begin = i
                while not _is_space(text[i]) and text[i] != ord("=") and text[i] != ord(">"):
                    i += 1
                attr_name = text.slice(attr_begin, i).decode("utf-8", "replace")
                if not attr_name:
                    raise EntityParseError(
                        f'Empty attribute name in the tag "{tag}" at byte offset {begin_pos}'
                    )
                while text[i] != 0 and _is_space(text[i]):
                    i += 1
                if text[i] != ord("="):
                    if tag == "blockquote" and attr_name == "expandable":
                        argument = "1"
                        continue
                    if text[i] == 0:
                        raise EntityParseError(f"Unclosed start tag at byte offset {begin_pos}")
                    raise EntityParseError(
                        "Expected equal sign in declaration of an attribute of the tag "
                        f'"{tag}" at byte offset {begin_pos}'
                    )
                i += 1
                while text[i] != 0 and _is_space(text[i]):
                    i += 1
                if text[i] == 0:
                    raise EntityParseError(
                        f'Unclosed start tag "{tag}" at byte offset {begin_pos}'
                    )
                value_bytes = bytearray()
                if text[i] not in (ord("'"), ord('"')):
                    token_begin = i
                    while _is_alnum(text[i]) or text[i] in (ord("."), ord("-")):
                        i += 1
                    value_bytes += text.slice(token_begin, i).lower()
                    if not _is_space(text[i]) and text[i] != ord(">"):
                        raise EntityParseError(
                            f"Unexpected end of name token at byte offset {token_begin}"
                        )
                else:
                    end_char = text[i]
                    i += 1
                    while text[i] != end_char and text[i] != 0:
                        if text[i] == ord("&"):
                            cp, new_pos = _decode_html_entity(text, i)
                            if cp != 0:
                                _append_code_point(value_bytes, cp)
                                i = new_pos
                                continue
                        value_bytes.append(text[i])
                        i += 1
                    if text[i] == end_char:
                        i += 1
                if text[i] == 0:
                    raise EntityParseError(f"Unclosed start tag at byte offset {begin_pos}")
                value = value_bytes.decode("utf-8", "replace")
                if tag == "a" and attr_name == "href":
                    argument = value
                elif tag == "code" and attr_name == "class" and value.startswith("language-"):
                    argument = value[len("language-") :]
                elif tag == "span" and attr_name == "class" and value.startswith("tg-"):
                    argument = value[len("tg-") :]
                elif tag == "tg-emoji" and attr_name == "emoji-id":
                    argument = value
                elif tag == "tg-time" and attr_name in ("unix", "format"):
                    extra[attr_name] = value
            if tag == "span" and argument != "spoiler":
                raise EntityParseError(
                    f'Tag "span" must have class "tg-spoiler" at byte offset {begin_pos}'
                )
            if tag == "tg-emoji" and not (argument.isdigit() and len(argument) < 20):
                raise EntityParseError("Invalid custom emoji identifier specified")
            if tag == "tg-time" and not extra.get("unix", "").lstrip("-").isdigit():
                raise EntityParseError("Invalid Unix time specified")
            stack.append(_OpenTag(tag, argument, utf16_offset, len(result), begin_pos, extra))
            i += 1  # skip '>'
        else:
            if not stack:
                raise EntityParseError(f"Unexpected end tag at byte offset {begin_pos}")
            while not _is_space(text[i]) and text[i] != ord(">"):
                i += 1
            end_tag = text.slice(begin_pos + 2, i).lower().decode("utf-8", "replace")
            while _is_space(text[i]) and text[i] != 0:
                i += 1
            if text[i] != ord(">"):
                raise EntityParseError(f"Unclosed end tag at byte offset {begin_pos}")
            i += 1
            open_tag = stack.pop()
            if end_tag and end_tag != open_tag.tag:
                raise EntityParseError(
                    f'Unmatched end tag at byte offset {begin_pos}, expected "</{open_tag.tag}>", '
                    f'found "</{end_tag}>"'
                )
            if utf16_offset > open_tag.utf16_offset:
                _add_html_entity(entities, open_tag, utf16_offset, result)
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return ParsedText(result.decode("utf-8", "surrogatepass"), entities)


def _add_html_entity(
    entities: list[dict[str, Any]], tag: _OpenTag, utf16_end: int, result: bytearray
) -> None:
    offset = tag.utf16_offset
    length = utf16_end - offset
    name = tag.tag
    if name in _SIMPLE_HTML_TYPES:
        entities.append({"type": _SIMPLE_HTML_TYPES[name], "offset": offset, "length": length})
    elif name == "a":
        url = tag.argument or result[tag.result_pos :].decode("utf-8", "replace")
        if url.startswith("tg://user?id=") and url[len("tg://user?id=") :].isdigit():
            user_id = int(url[len("tg://user?id=") :])
            entities.append(
                {
                    "type": "text_mention",
                    "offset": offset,
                    "length": length,
                    "user": {"id": user_id, "is_bot": False, "first_name": ""},
                }
            )
            return
        checked = _check_link(url)
        if checked is not None:  # an invalid URL silently drops the entity, as in TDLib
            entities.append(
                {"type": "text_link", "offset": offset, "length": length, "url": checked}
            )
    elif name == "pre":
        last = entities[-1] if entities else None
        if (
            last is not None
            and last["type"] == "code"
            and last["offset"] == offset
            and last["length"] == length
            and last.get("language")
        ):
            last["type"] = "pre"
        else:
            entities.append({"type": "pre", "offset": offset, "length": length})
    elif name == "code":
        last = entities[-1] if entities else None
        if (
            last is not None
            and last["type"] == "pre"
            and last["offset"] == offset
            and last["length"] == length
            and tag.argument
        ):
            last["language"] = tag.argument
        else:
            entity: dict[str, Any] = {"type": "code", "offset": offset, "length": length}
            if tag.argument:
                entity["language"] = tag.argument
            entities.append(entity)
    elif name == "blockquote":
        kind = "expandable_blockquote" if tag.argument else "blockquote"
        entities.append({"type": kind, "offset": offset, "length": length})
    elif name == "tg-emoji":
        entities.append(
            {
                "type": "custom_emoji",
                "offset": offset,
                "length": length,
                "custom_emoji_id": tag.argument,
            }
        )
    elif name == "tg-time":
        entity = {
            "type": "date_time",
            "offset": offset,
            "length": length,
            "unix_time": int(tag.extra["unix"]),
        }
        if tag.extra.get("format"):
            entity["date_time_format"] = tag.extra["format"]
        entities.append(entity)


def _clean_code_language(entities: list[dict[str, Any]]) -> None:
    """A ``code`` entity never carries a language in the Bot API; only ``pre`` does."""
    for entity in entities:
        if entity["type"] == "code":
            entity.pop("language", None)


# --------------------------------------------------------------------------------------------
# MarkdownV2


_MDV2_TYPE_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "pre_code": "PreCode",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
}


@dataclass
class _MdEntity:
    kind: str
    argument: str
    utf16_offset: int
    byte_offset: int
    result_pos: int


def parse_markdown_v2(source: str) -> ParsedText:
    """Parse MarkdownV2 (without blockquotes) with TDLib's rules and error texts."""
    text = _Bytes(source)
    result = bytearray()
    entities: list[dict[str, Any]] = []
    stack: list[_MdEntity] = []
    utf16_offset = 0
    i = 0
    while i < text.size:
        c = text[i]
        if c == ord("\\") and 0 < text[i + 1] <= 126:
            i += 1
            utf16_offset += 1
            result.append(text[i])
            i += 1
            continue
        reserved = _MDV2_RESERVED
        if stack and stack[-1].kind in ("code", "pre", "pre_code"):
            reserved = "`"
        if chr(c) not in reserved:
            utf16_offset += _utf16_units_of_byte(c)
            result.append(c)
            i += 1
            continue

        is_end = False
        if stack:
            kind = stack[-1].kind
            nxt = text[i + 1]
            is_end = (
                (kind == "bold" and c == ord("*"))
                or (kind == "italic" and c == ord("_") and nxt != ord("_"))
                or (kind == "code" and c == ord("`"))
                or (
                    kind in ("pre", "pre_code")
                    and c == ord("`")
                    and nxt == ord("`")
                    and text[i + 2] == ord("`")
                )
                or (kind in ("text_link", "custom_emoji") and c == ord("]"))
                or (kind == "underline" and c == ord("_") and nxt == ord("_"))
                or (kind == "strikethrough" and c == ord("~"))
                or (kind == "spoiler" and c == ord("|") and nxt == ord("|"))
            )
        if not is_end:
            entity_byte_offset = i
            argument = ""
            if c == ord("_"):
                if text[i + 1] == ord("_"):
                    kind = "underline"
                    i += 1
                else:
                    kind = "italic"
            elif c == ord("*"):
                kind = "bold"
            elif c == ord("~"):
                kind = "strikethrough"
            elif c == ord("|") and text[i + 1] == ord("|"):
                i += 1
                kind = "spoiler"
            elif c == ord("["):
                kind = "text_link"
            elif c == ord("!") and text[i + 1] == ord("["):
                i += 1
                kind = "custom_emoji"
            elif c == ord("`"):
                if text[i + 1] == ord("`") and text[i + 2] == ord("`"):
                    i += 3
                    kind = "pre"
                    language_end = i
                    while not _is_space(text[language_end]) and text[language_end] != ord("`"):
                        language_end += 1
                    if (
                        i != language_end
                        and language_end < text.size
                        and text[language_end] != ord("`")
                    ):
                        kind = "pre_code"
                        argument = text.slice(i, language_end).decode("utf-8", "replace")
                        i = language_end
                    if text[i] in (ord("\n"), ord("\r")):
                        if text[i + 1] in (ord("\n"), ord("\r")) and text[i] != text[i + 1]:
                            i += 2
                        else:
                            i += 1
                    i -= 1
                else:
                    kind = "code"
            else:
                raise EntityParseError(
                    f"Character '{chr(c)}' is reserved and must be escaped with the preceding '\\'"
                )
            stack.append(_MdEntity(kind, argument, utf16_offset, entity_byte_offset, len(result)))
            i += 1
            continue

        open_entity = stack.pop()
        kind = open_entity.kind
        skip_entity = utf16_offset == open_entity.utf16_offset
        entity_extra: dict[str, Any] = {}
        if kind in ("underline", "spoiler"):
            i += 1
        elif kind in ("pre", "pre_code"):
            i += 2
        elif kind in ("text_link", "custom_emoji"):
            url = ""
            if text[i + 1] != ord("("):
                url = result[open_entity.result_pos :].decode("utf-8", "replace")
            else:
                i += 2
                url_begin = i
                url_bytes = bytearray()
                while i < text.size and text[i] != ord(")"):
                    if text[i] == ord("\\") and 0 < text[i + 1] <= 126:
                        url_bytes.append(text[i + 1])
                        i += 2
                        continue
                    url_bytes.append(text[i])
                    i += 1
                if text[i] != ord(")"):
                    raise EntityParseError(f"Can't find end of a URL at byte offset {url_begin}")
                url = url_bytes.decode("utf-8", "replace")
            if kind == "custom_emoji":
                prefix = "tg://emoji?id="
                if not url.startswith(prefix) or not url[len(prefix) :].isdigit():
                    raise EntityParseError("Custom emoji URL must have an emoji identifier")
                entity_extra["custom_emoji_id"] = url[len(prefix) :]
            else:
                checked = _check_link(url)
                if checked is None:
                    skip_entity = True
                else:
                    entity_extra["url"] = checked
        if not skip_entity:
            api_type = "pre" if kind == "pre_code" else kind
            entity = {
                "type": api_type,
                "offset": open_entity.utf16_offset,
                "length": utf16_offset - open_entity.utf16_offset,
            }
            if kind == "pre_code":
                entity["language"] = open_entity.argument
            entity.update(entity_extra)
            entities.append(entity)
        i += 1
    if stack:
        last = stack[-1]
        raise EntityParseError(
            f"Can't find end of {_MDV2_TYPE_NAMES[last.kind]} entity at byte offset "
            f"{last.byte_offset}"
        )
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return ParsedText(result.decode("utf-8", "surrogatepass"), entities)


# --------------------------------------------------------------------------------------------
# Legacy Markdown


def parse_markdown(source: str) -> ParsedText:
    """Parse legacy Markdown (``*bold*``, ``_italic_``, ```code```, ``[text](url)``)."""
    text = _Bytes(source)
    result = bytearray()
    entities: list[dict[str, Any]] = []
    utf16_offset = 0
    i = 0
    while i < text.size:
        c = text[i]
        if c == ord("\\") and text[i + 1] in b"_*`[":
            i += 1
            result.append(text[i])
            utf16_offset += 1
            i += 1
            continue
        if c not in b"_*`[":
            result.append(c)
            utf16_offset += _utf16_units_of_byte(c)
            i += 1
            continue
        begin_pos = i
        end_char = ord("]") if c == ord("[") else c
        is_pre = False
        i += 1
        language = ""
        if c == ord("`") and text[i] == ord("`") and text[i + 1] == ord("`"):
            i += 2
            is_pre = True
            language_end = i
            while not _is_space(text[language_end]) and text[language_end] != ord("`"):
                language_end += 1
            if i != language_end and language_end < text.size and text[language_end] != ord("`"):
                language = text.slice(i, language_end).decode("utf-8", "replace")
                i = language_end
            if text[i] in (ord("\n"), ord("\r")):
                if text[i + 1] in (ord("\n"), ord("\r")) and text[i] != text[i + 1]:
                    i += 2
                else:
                    i += 1
        entity_offset = utf16_offset
        entity_begin = len(result)
        while i < text.size and (
            text[i] != end_char
            or (is_pre and not (text[i + 1] == ord("`") and text[i + 2] == ord("`")))
        ):
            cur = text[i]
            utf16_offset += _utf16_units_of_byte(cur)
            result.append(cur)
            i += 1
        if i == text.size:
            raise EntityParseError(
                f"Can't find end of the entity starting at byte offset {begin_pos}"
            )
        length = utf16_offset - entity_offset
        if c == ord("["):
            url = ""
            if text[i + 1] == ord("("):
                i += 2
                url_begin = i
                while i < text.size and text[i] != ord(")"):
                    i += 1
                url = text.slice(url_begin, i).decode("utf-8", "replace")
            else:
                url = result[entity_begin:].decode("utf-8", "replace")
            checked = _check_link(url)
            if length and checked is not None:
                entities.append(
                    {
                        "type": "text_link",
                        "offset": entity_offset,
                        "length": length,
                        "url": checked,
                    }
                )
        elif length:
            if is_pre:
                entity = {"type": "pre", "offset": entity_offset, "length": length}
                if language:
                    entity["language"] = language
                entities.append(entity)
                i += 2
            else:
                kind = {ord("_"): "italic", ord("*"): "bold", ord("`"): "code"}[c]
                entities.append({"type": kind, "offset": entity_offset, "length": length})
        elif is_pre:
            i += 2
        i += 1
    return ParsedText(result.decode("utf-8", "surrogatepass"), entities)


# --------------------------------------------------------------------------------------------


def strip_whitespace(parsed: ParsedText) -> ParsedText:
    """Trim leading and trailing whitespace as Telegram does, keeping entities in place."""
    text = parsed.text
    stripped_left = text.lstrip(" \t\r\n")
    stripped = stripped_left.rstrip(" \t\r\n")
    if stripped == text:
        return parsed
    shift = utf16_len(text) - utf16_len(stripped_left)
    new_len = utf16_len(stripped)
    entities: list[dict[str, Any]] = []
    for entity in parsed.entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, new_len)
        if end > start:
            entities.append({**entity, "offset": start, "length": end - start})
    return ParsedText(stripped, entities)


def parse_formatted(text: str, parse_mode: str | None) -> ParsedText:
    """Parse ``text`` according to ``parse_mode`` (None or "" = plain text).

    Raises EntityParseError for malformed markup and ValueError("unsupported parse_mode") for an
    unknown mode.
    """
    if not parse_mode:
        return ParsedText(text, [])
    mode = parse_mode.lower()
    if mode == "html":
        parsed = parse_html(text)
        _clean_code_language(parsed.entities)
        return parsed
    if mode == "markdownv2":
        return parse_markdown_v2(text)
    if mode == "markdown":
        return parse_markdown(text)
    raise ValueError("unsupported parse_mode")
