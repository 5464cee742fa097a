"""Telegram-exact ``parse_mode=HTML`` parsing and message text rules for the Bot API emulator.

This is a port of tdlib's ``parse_html`` (td/telegram/MessageEntity.cpp), which is what the
Bot API server runs for ``parse_mode=HTML``, followed by tdlib's ``fix_formatted_text``, which
every outgoing text goes through before it is sent:

* :func:`parse_html` is the raw tdlib parser (the ``parseTextEntities`` result): it works on
  the UTF-8 bytes, reports errors with byte offsets and with tdlib's exact wording, and returns
  the decoded text plus Bot API ``MessageEntity`` dicts (offsets/lengths in UTF-16 code units).
  Like tdlib, it keeps every entity it saw, even ones that ``fix_formatted_text`` drops later
  (for example ``<b>`` inside ``<code>``, or ``<code>`` inside ``<pre>`` without a language).
* ``_fix_formatted`` ports tdlib's ``fix_formatted_text``: control characters become spaces,
  ``\\r`` and a few invisible characters are removed, entities are de-nested the way Telegram
  does it (bold/italic/underline/strikethrough/spoiler merged and cut out of code/pre; other
  entities may not contain each other), trailing whitespace is cut and leading whitespace is cut
  up to the first entity.
* :func:`check_message_text` is what ``sendMessage`` does with ``text`` + ``parse_mode`` and
  raises :class:`BadRequest` with the Bot API description.
* :func:`bot_command_entities` adds the entities Telegram attaches to a user's message.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from dataclasses import dataclass

__all__ = [
    "BadRequest",
    "EntityParseError",
    "bot_command_entities",
    "check_message_text",
    "parse_html",
    "utf16_length",
]

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024

_SURROGATE_ERROR = (
    "Text contains invalid Unicode characters after decoding HTML entities, check for unmatched "
    "surrogate code units"
)
_SUPPORTED_TAGS = frozenset(
    {
        "a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins", "tg-spoiler",
        "tg-emoji", "span", "pre", "code", "blockquote",
    }
)  # fmt: skip
_SPACE_BYTES = frozenset(b" \t\r\n\x00\x0b")  # tdlib's is_space(), NUL included
_NAMED_ENTITIES = {b"lt": 0x3C, b"gt": 0x3E, b"amp": 0x26, b"quot": 0x22}
_ATTR_NAME_STOP = frozenset(b"=>/\"'")
_MAX_USER_ID = (1 << 40) - 1
_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1

# tdlib's MessageEntity::get_type_priority(), used as the last sort key.
_PRIORITY = {
    "mention": 50, "hashtag": 50, "bot_command": 50, "url": 50, "email": 50, "bold": 90,
    "italic": 91, "code": 20, "pre": 11, "pre_code": 10, "text_url": 49, "mention_name": 49,
    "cashtag": 50, "underline": 92, "strikethrough": 93, "blockquote": 0, "spoiler": 94,
    "custom_emoji": 99, "expandable_blockquote": 0,
}  # fmt: skip
_SPLITTABLE = frozenset({"bold", "italic", "underline", "strikethrough", "spoiler"})
_BLOCKQUOTES = frozenset({"blockquote", "expandable_blockquote"})
_PRE_KINDS = frozenset({"code", "pre", "pre_code"})
_SIMPLE_TAGS = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
    "ins": "underline", "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "tg-spoiler": "spoiler", "span": "spoiler",
}  # fmt: skip

# Characters fix_formatted_text treats as "empty" when deciding whether a text is blank.
_EMPTY_CHARS = frozenset(
    " \n\u00a0\u1680\u180e\u200b\u200c\u200d\u200e\u200f\u202e\u202f\u205f\u2800\u3000\ufeff\ufffc"
) | frozenset(chr(c) for c in range(0x2000, 0x200B))


class EntityParseError(ValueError):
    """Telegram's description suffix, e.g. 'Unsupported start tag "br" at byte offset 5'."""


class BadRequest(Exception):
    """A Bot API 400 error; ``description`` holds the full text, e.g. 'Bad Request: ...'."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


@dataclass
class _Entity:
    """An entity in tdlib terms (kind names follow tdlib, not the Bot API)."""

    kind: str
    offset: int
    length: int
    argument: str = ""
    user_id: int = 0

    @property
    def end(self) -> int:
        """UTF-16 offset just past the entity."""
        return self.offset + self.length

    def to_dict(self) -> dict[str, object]:
        """Render as a Bot API MessageEntity dict."""
        bot_api_type = {"pre_code": "pre", "text_url": "text_link", "mention_name": "text_mention"}
        result: dict[str, object] = {
            "type": bot_api_type.get(self.kind, self.kind),
            "offset": self.offset,
            "length": self.length,
        }
        if self.kind == "pre_code":
            result["language"] = self.argument
        elif self.kind == "text_url":
            result["url"] = self.argument
        elif self.kind == "mention_name":
            result["user"] = {"id": self.user_id}  # the API layer should fill in the User
        elif self.kind == "custom_emoji":
            result["custom_emoji_id"] = self.argument
        return result


def _sort_key(entity: _Entity) -> tuple[int, int, int]:
    return entity.offset, -entity.length, _PRIORITY[entity.kind]


def utf16_length(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (what Telegram counts)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


# --------------------------------------------------------------------------------------------
# parse_html
# --------------------------------------------------------------------------------------------


def _is_alpha(c: int) -> bool:
    return 0x61 <= (c | 0x20) <= 0x7A


def _is_digit(c: int) -> bool:
    return 0x30 <= c <= 0x39


def _is_hex_digit(c: int) -> bool:
    return _is_digit(c) or 0x61 <= (c | 0x20) <= 0x66


def _encode_code_point(code: int) -> bytes:
    return chr(code).encode("utf-8", "surrogatepass")


def _decode_html_entity(buf: bytes, pos: int) -> tuple[int, int]:
    """tdlib's decode_html_entity: (code point or 0, position after the entity)."""
    end = pos + 1
    res = 0
    if buf[pos + 1] == 0x23:  # '#'
        end += 1
        if buf[pos + 2] == 0x78:  # 'x' (lower case only, as in tdlib)
            end += 1
            while _is_hex_digit(buf[end]):
                res = res * 16 + int(chr(buf[end]), 16)
                end += 1
        else:
            while _is_digit(buf[end]):
                res = res * 10 + buf[end] - 0x30
                end += 1
        if res == 0 or res >= 0x10FFFF or end - pos >= 10:
            return 0, pos
    else:
        while _is_alpha(buf[end]):
            end += 1
        res = _NAMED_ENTITIES.get(buf[pos + 1 : end], 0)
        if res == 0:
            return 0, pos
    if buf[end] == 0x3B:  # ';'
        end += 1
    return res, end


def _parse_int64(value: str) -> int | None:
    """tdlib's to_integer_safe<int64>: only the canonical decimal form is accepted."""
    if not re.fullmatch(r"-?[0-9]+", value):
        return None
    number = int(value)
    if str(number) != value or not _INT64_MIN <= number <= _INT64_MAX:
        return None
    return number


def _utf8_to_str(data: bytes) -> str:
    return data.decode("utf-8", "surrogatepass")


def _parse_html_entities(text: str) -> tuple[str, list[_Entity]]:
    """The actual port of tdlib's parse_html; returns tdlib-style entities."""
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        raise EntityParseError("Strings must be encoded in UTF-8") from None
    if len(text) > 65536:
        raise EntityParseError("Text is too long")
    size = len(data)
    buf = data + b"\x00\x00\x00\x00"  # tdlib reads a NUL-terminated C string
    out = bytearray()
    entities: list[_Entity] = []
    # stack of (tag name, argument, UTF-16 offset, byte position in ``out``)
    nested: list[tuple[str, str, int, int]] = []
    utf16 = 0
    need_recheck_utf8 = False
    i = 0
    while i < size:
        c = buf[i]
        if c == 0x26:  # '&'
            code, new_i = _decode_html_entity(buf, i)
            if code != 0:
                utf16 += 1 + (code > 0xFFFF)
                if 0xD800 <= code <= 0xDFFF:
                    need_recheck_utf8 = True
                out += _encode_code_point(code)
                i = new_i
                continue
        if c != 0x3C:  # not '<'
            if c & 0xC0 != 0x80:
                utf16 += 1 + (c >= 0xF0)
            out.append(c)
            i += 1
            continue

        begin_pos = i
        i += 1
        if buf[i] != 0x2F:  # start tag
            while buf[i] not in _SPACE_BYTES and buf[i] != 0x3E:
                i += 1
            if buf[i] == 0:
                raise EntityParseError(f"Unclosed start tag at byte offset {begin_pos}")
            tag_name = buf[begin_pos + 1 : i].lower().decode("utf-8", "replace")
            if tag_name not in _SUPPORTED_TAGS:
                raise EntityParseError(
                    f'Unsupported start tag "{tag_name}" at byte offset {begin_pos}'
                )
            argument = ""
            while buf[i] != 0x3E:
                while buf[i] != 0 and buf[i] in _SPACE_BYTES:
                    i += 1
                if buf[i] == 0x3E:
                    break
                attribute_begin = i
                while buf[i] not in _SPACE_BYTES and buf[i] not in _ATTR_NAME_STOP:
                    i += 1
                attribute_name = buf[attribute_begin:i]
                if not attribute_name:
                    raise EntityParseError(
                        f'Empty attribute name in the tag "{tag_name}" at byte offset {begin_pos}'
                    )
                while buf[i] != 0 and buf[i] in _SPACE_BYTES:
                    i += 1
                if buf[i] != 0x3D:  # attribute without a value
                    if buf[i] == 0:
                        raise EntityParseError(
                            f'Unclosed start tag "{tag_name}" at byte offset {begin_pos}'
                        )
                    if tag_name == "blockquote" and attribute_name == b"expandable":
                        argument = "1"
                    continue
                i += 1
                while buf[i] != 0 and buf[i] in _SPACE_BYTES:
                    i += 1
                if buf[i] == 0:
                    raise EntityParseError(
                        f'Unclosed start tag "{tag_name}" at byte offset {begin_pos}'
                    )
                if buf[i] not in (0x22, 0x27):  # name token: [A-Za-z0-9.-]*, case-insensitive
                    token_begin = i
                    while _is_alpha(buf[i]) or _is_digit(buf[i]) or buf[i] in (0x2E, 0x2D):
                        i += 1
                    value = _utf8_to_str(buf[token_begin:i].lower())
                    if buf[i] not in _SPACE_BYTES and buf[i] != 0x3E:
                        raise EntityParseError(
                            f"Unexpected end of name token at byte offset {token_begin}"
                        )
                else:  # string literal, HTML entities decoded
                    end_character = buf[i]
                    i += 1
                    raw = bytearray()
                    while buf[i] != end_character and buf[i] != 0:
                        if buf[i] == 0x26:
                            code, new_i = _decode_html_entity(buf, i)
                            if code != 0:
                                raw += _encode_code_point(code)
                                i = new_i
                                continue
                        raw.append(buf[i])
                        i += 1
                    if buf[i] == end_character:
                        i += 1
                    value = _utf8_to_str(bytes(raw))
                if buf[i] == 0:
                    raise EntityParseError(f"Unclosed start tag at byte offset {begin_pos}")

                if tag_name == "a" and attribute_name == b"href":
                    argument = value
                elif (
                    tag_name == "code"
                    and attribute_name == b"class"
                    and value.startswith("language-")
                ):
                    argument = value[9:]
                elif tag_name == "span" and attribute_name == b"class" and value.startswith("tg-"):
                    argument = value[3:]
                elif tag_name == "tg-emoji" and attribute_name == b"emoji-id":
                    argument = value
                elif tag_name == "blockquote" and attribute_name == b"expandable":
                    argument = "1"

            if tag_name == "span" and argument != "spoiler":
                raise EntityParseError(
                    f'Tag "span" must have class "tg-spoiler" at byte offset {begin_pos}'
                )
            nested.append((tag_name, argument, utf16, len(out)))
        else:  # end tag
            if not nested:
                raise EntityParseError(f"Unexpected end tag at byte offset {begin_pos}")
            while buf[i] not in _SPACE_BYTES and buf[i] != 0x3E:
                i += 1
            end_tag_name = buf[begin_pos + 2 : i].lower().decode("utf-8", "replace")
            while buf[i] in _SPACE_BYTES and buf[i] != 0:
                i += 1
            if buf[i] != 0x3E:
                raise EntityParseError(f"Unclosed end tag at byte offset {begin_pos}")
            tag_name, argument, entity_offset, entity_begin = nested.pop()
            if end_tag_name and end_tag_name != tag_name:
                raise EntityParseError(
                    f"Unmatched end tag at byte offset {begin_pos}, "
                    f'expected "</{tag_name}>", found "</{end_tag_name}>"'
                )
            if utf16 > entity_offset:
                _close_tag(
                    entities,
                    tag_name,
                    argument,
                    entity_offset,
                    utf16 - entity_offset,
                    bytes(out[entity_begin:]),
                )
        i += 1  # skip '>'

    if nested:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{nested[-1][0]}"')
    for entity in entities:
        if entity.kind == "code":
            entity.argument = ""
    entities.sort(key=_sort_key)
    if need_recheck_utf8:
        # tdlib's check_utf8 rejects every encoded surrogate, paired or not
        raise EntityParseError(_SURROGATE_ERROR)
    return bytes(out).decode("utf-8"), entities


def _close_tag(
    entities: list[_Entity],
    tag_name: str,
    argument: str,
    offset: int,
    length: int,
    inner: bytes,
) -> None:
    """Append the entity for a closed, non-empty tag (tdlib's end-tag branch)."""
    if tag_name in _SIMPLE_TAGS:
        entities.append(_Entity(_SIMPLE_TAGS[tag_name], offset, length))
    elif tag_name == "tg-emoji":
        document_id = _parse_int64(argument)
        if document_id is None or document_id == 0:
            raise EntityParseError("Invalid custom emoji identifier specified")
        entities.append(_Entity("custom_emoji", offset, length, str(document_id)))
    elif tag_name == "a":
        url = argument or _utf8_to_str(inner)
        user_id = _get_link_user_id(url)
        if user_id is not None:
            entities.append(_Entity("mention_name", offset, length, user_id=user_id))
        else:
            checked = _get_checked_link(url)
            if checked:
                entities.append(_Entity("text_url", offset, length, checked))
    elif tag_name == "pre":
        last = entities[-1] if entities else None
        if (
            last is not None
            and last.kind == "code"
            and (last.offset, last.length) == (offset, length)
            and last.argument
        ):
            last.kind = "pre_code"
        else:
            entities.append(_Entity("pre", offset, length))
    elif tag_name == "code":
        last = entities[-1] if entities else None
        if (
            last is not None
            and last.kind == "pre"
            and (last.offset, last.length) == (offset, length)
            and argument
        ):
            last.kind = "pre_code"
            last.argument = argument
        else:
            entities.append(_Entity("code", offset, length, argument))
    elif tag_name == "blockquote":
        kind = "expandable_blockquote" if argument else "blockquote"
        entities.append(_Entity(kind, offset, length))
    else:  # pragma: no cover - the tag list is closed
        raise AssertionError(tag_name)


def parse_html(text: str) -> tuple[str, list[dict[str, object]]]:
    """Return (plain_text, entities) exactly as tdlib's parse_html produces them.

    Entities are Bot API MessageEntity dicts (UTF-16 offsets), sorted like tdlib sorts them.
    This is the raw parser: use :func:`check_message_text` for what a sent message becomes.
    Raises :class:`EntityParseError` with tdlib's message.
    """
    plain, entities = _parse_html_entities(text)
    return plain, [entity.to_dict() for entity in entities]


# --------------------------------------------------------------------------------------------
# Links (tdlib LinkManager::get_link_user_id / get_checked_link and td::parse_url)
# --------------------------------------------------------------------------------------------


def _get_link_user_id(url: str) -> int | None:
    """User id of a ``tg://user?id=N`` link, or None."""
    url = url.lower()  # tdlib to_lower() is ASCII-only; so is str.lower() for these checks
    if not url.startswith("tg:"):
        return None
    url = url[3:]
    if url.startswith("//"):
        url = url[2:]
    if not url.startswith("user"):
        return None
    url = url[4:]
    if url.startswith("/"):
        url = url[1:]
    if not url.startswith("?"):
        return None
    url = url[1:].split("#", 1)[0]
    for parameter in url.split("&"):
        key, _, value = parameter.partition("=")
        if key == "id":
            user_id = _parse_int64(value)
            if user_id is None or not 0 < user_id <= _MAX_USER_ID:
                return None
            return user_id
    return None


def _check_url_part(part: bytes, allow_colon: bool) -> bool:
    allowed = b".-_!$,~*'();&+=" + (b":" if allow_colon else b"")
    i = 0
    while i < len(part):
        c = part[i]
        if _is_alpha(c) or _is_digit(c) or c in allowed or c >= 0x80:
            i += 1
            continue
        if c == 0x25:  # '%' must be followed by two hex digits
            if i + 2 < len(part) and _is_hex_digit(part[i + 1]) and _is_hex_digit(part[i + 2]):
                i += 3
                continue
            return False
        return False
    return True


@dataclass
class _HttpUrl:
    https: bool
    userinfo: bytes
    host: bytes
    is_ipv6: bool
    specified_port: int
    query: bytes

    def get_url(self) -> bytes:
        result = b"https://" if self.https else b"http://"
        if self.userinfo:
            result += self.userinfo + b"@"
        result += self.host
        if self.specified_port > 0:
            result += b":" + str(self.specified_port).encode()
        return result + self.query


def _parse_url(url: bytes) -> _HttpUrl | None:
    """td::parse_url with the default HTTP protocol; None where tdlib returns an error."""
    match = re.match(rb"[^:/?#@\[\]]*", url)
    protocol = match.group(0).lower() if match else b""
    rest = url
    https = False
    if url[len(protocol) : len(protocol) + 3] == b"://":
        if protocol == b"https":
            https = True
        elif protocol != b"http":
            return None
        rest = url[len(protocol) + 3 :]
    split = re.match(rb"[^/?#]*", rest)
    userinfo_host_port = split.group(0) if split else b""
    query = rest[len(userinfo_host_port) :]

    port = 0
    colon = len(userinfo_host_port) - 1
    while colon > 0 and userinfo_host_port[colon] not in b":]@":
        colon -= 1
    if colon > 0 and userinfo_host_port[colon] == 0x3A:
        port_text = userinfo_host_port[colon + 1 :].decode("latin-1")
        while len(port_text) > 1 and port_text[0] == "0":
            port_text = port_text[1:]
        parsed = _parse_int64(port_text)
        port = -1 if parsed is None or parsed == 0 or parsed > 0x7FFFFFFF else parsed
        userinfo_host = userinfo_host_port[:colon]
    else:
        userinfo_host = userinfo_host_port
    if port < 0 or port > 65535:
        return None

    at_pos = userinfo_host.rfind(b"@")
    userinfo = userinfo_host[:at_pos] if at_pos >= 0 else b""
    host = userinfo_host[at_pos + 1 :]
    is_ipv6 = False
    if host[:1] == b"[" and host[-1:] == b"]":
        try:
            ipaddress.IPv6Address(host[1:-1].decode("ascii"))
        except ValueError:
            return None
        is_ipv6 = True
    if not host or host == b".":
        return None

    while query and query[-1] in _SPACE_BYTES:
        query = query[:-1]
    if not query:
        query = b"/"
    query_out = bytearray() if query[:1] == b"/" else bytearray(b"/")
    for c in query:
        if c <= 0x20:
            query_out += b"%" + b"%02X" % c
        else:
            query_out.append(c)

    host = host.lower()
    if not is_ipv6 and not (_check_url_part(host, False) and _check_url_part(userinfo, True)):
        return None
    return _HttpUrl(https, userinfo, host, is_ipv6, port, bytes(query_out))


def _get_checked_link(link: str) -> str:
    """tdlib's LinkManager::get_checked_link: the normalised URL, or '' if it is invalid."""
    data = link.encode("utf-8", "surrogatepass")
    scheme = ""
    for prefix in ("tg:", "ton:", "tonsite:"):
        if data[: len(prefix)].lower() == prefix.encode():
            scheme = prefix[:-1]
            data = data[len(prefix) :]
            if data.startswith(b"//"):
                data = data[2:]
            break
    http_url = _parse_url(data)
    if http_url is None:
        return ""
    if scheme:
        if (
            data[:7].lower() == b"http://"
            or http_url.https
            or http_url.userinfo
            or http_url.specified_port != 0
            or http_url.is_ipv6
        ):
            return ""
        query = http_url.query
        if len(query) > 1 and query[1:2] == b"?":
            query = query[1:]
        for c in http_url.host:
            if not (
                _is_alpha(c) or _is_digit(c) or c in b"-_" or (scheme == "tonsite" and c == 0x2E)
            ):
                return ""
        result = scheme.encode() + b"://" + http_url.host + query
    else:
        if b"." not in http_url.host and not http_url.is_ipv6:
            return ""
        result = http_url.get_url()
    try:
        return result.decode("utf-8")
    except UnicodeDecodeError:
        return ""


# --------------------------------------------------------------------------------------------
# fix_formatted_text
# --------------------------------------------------------------------------------------------


def _remove_empty_entities(entities: list[_Entity]) -> list[_Entity]:
    return [
        e
        for e in entities
        if e.length > 0
        and not (e.kind == "text_url" and not e.argument)
        and not (e.kind == "mention_name" and not 0 < e.user_id <= _MAX_USER_ID)
    ]


def _remove_intersecting(entities: list[_Entity]) -> list[_Entity]:
    """Keep an entity only if it starts at or after the end of every kept earlier one."""
    kept: list[_Entity] = []
    last_end = 0
    for entity in entities:
        if entity.offset >= last_end:
            kept.append(entity)
            last_end = entity.end
    return kept


def _merge_intervals(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Merge overlapping or touching [begin, end) intervals."""
    merged: list[tuple[int, int]] = []
    for begin, end in sorted(intervals):
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((begin, end))
    return merged


def _subtract_intervals(
    intervals: list[tuple[int, int]], holes: list[tuple[int, int]]
) -> list[tuple[int, int]]:
    result: list[tuple[int, int]] = []
    for begin, end in intervals:
        pieces = [(begin, end)]
        for hole_begin, hole_end in holes:
            next_pieces: list[tuple[int, int]] = []
            for piece_begin, piece_end in pieces:
                if hole_end <= piece_begin or piece_end <= hole_begin:
                    next_pieces.append((piece_begin, piece_end))
                    continue
                if piece_begin < hole_begin:
                    next_pieces.append((piece_begin, hole_begin))
                if hole_end < piece_end:
                    next_pieces.append((hole_end, piece_end))
            pieces = next_pieces
        result.extend(pieces)
    return result


def _fix_entities(entities: list[_Entity]) -> list[_Entity]:
    """tdlib's fix_entities as seen by the server after get_input_message_entities.

    Continuous entities (code, pre, links, mentions, custom emoji) can't contain or intersect
    each other: the one sorted later is dropped. Blockquotes can't intersect each other and
    continuous entities must be inside or outside them. Bold/italic/underline/strikethrough/
    spoiler are merged per type when they overlap or touch and are cut out of code and pre.
    """
    entities = sorted(entities, key=_sort_key)
    continuous = [e for e in entities if e.kind not in _SPLITTABLE and e.kind not in _BLOCKQUOTES]
    blockquotes = [e for e in entities if e.kind in _BLOCKQUOTES]
    continuous = _remove_intersecting(continuous)
    if blockquotes:
        blockquotes = _remove_intersecting(blockquotes)
        continuous = [
            e
            for e in continuous
            if all(
                e.end <= q.offset or q.end <= e.offset or (q.offset <= e.offset and e.end <= q.end)
                for q in blockquotes
            )
        ]
    holes = [(e.offset, e.end) for e in continuous if e.kind in _PRE_KINDS]
    splittable: list[_Entity] = []
    for kind in sorted(_SPLITTABLE):
        ranges = _merge_intervals([(e.offset, e.end) for e in entities if e.kind == kind])
        for begin, end in _subtract_intervals(ranges, holes):
            if end > begin:
                splittable.append(_Entity(kind, begin, end - begin))
    return sorted(continuous + blockquotes + splittable, key=_sort_key)


def _clean_input_string(text: str, entities: list[_Entity]) -> str:
    """tdlib's clean_input_string(_with_entities): fixes characters, shifts entities."""
    old_to_new = [0] * (utf16_length(text) + 1)
    pieces: list[str] = []
    old = new = 0
    for ch in text:
        cp = ord(ch)
        if cp <= 0x20 and cp not in (0x0A, 0x0D):
            replacement = " "  # control characters (including TAB and NUL) become spaces
        elif cp == 0x0D or 0x2028 <= cp <= 0x202E or cp in (0x0333, 0x033F, 0x030A):
            replacement = ""
        else:
            replacement = ch
        width = 2 if cp > 0xFFFF else 1
        for k in range(width):
            old_to_new[old + k] = new + (k if replacement else 0)
        old += width
        new += len(replacement) * width
        pieces.append(replacement)
    old_to_new[old] = new
    for entity in entities:
        begin, end = old_to_new[entity.offset], old_to_new[entity.end]
        entity.offset, entity.length = begin, end - begin
    # runs of LRM/RLM: all but the last mark become ZERO WIDTH NON-JOINER
    return re.sub(
        "[\u200e\u200f]{2,}",
        lambda m: "\u200c" * (len(m.group(0)) - 1) + m.group(0)[-1],
        "".join(pieces),
    )


def _is_empty_string(text: str) -> bool:
    """tdlib's is_empty_string for an already cleaned text."""
    return all(ch in _EMPTY_CHARS or 0xE0000 <= ord(ch) <= 0xE007F for ch in text)


def _fix_formatted(
    text: str, entities: list[_Entity], allow_empty: bool
) -> tuple[str, list[_Entity]] | None:
    """Port of tdlib's fix_formatted_text; None means 'Text must be non-empty'."""
    entities = _fix_entities(_remove_empty_entities(entities))
    text = _clean_input_string(text, entities)
    entities = _remove_empty_entities(entities)

    last_index = -1  # index in ``text`` of the last character that is not ' ' or '\n'
    for index in range(len(text) - 1, -1, -1):
        if text[index] not in " \n":
            last_index = index
            break
    if last_index < 0:
        return ("", []) if allow_empty else None
    entities = _fix_entities(entities)

    # rtrim: cut after the last non-whitespace character, shortening entities
    text = text[: last_index + 1]
    text_end = utf16_length(text)
    entities = [e for e in entities if e.offset < text_end]
    for entity in entities:
        if entity.end > text_end:
            entity.length = text_end - entity.offset
    entities.sort(key=_sort_key)

    # ltrim: only up to the beginning of the first entity
    limit = entities[0].offset if entities else len(text)
    skip = 0
    while skip < limit and text[skip] in " \n":
        skip += 1
    if skip:
        text = text[skip:]
        for entity in entities:
            entity.offset -= skip

    if not allow_empty and _is_empty_string(text):
        return None
    return text, entities


def check_message_text(
    text: str,
    parse_mode: str | None,
    *,
    limit: int = MESSAGE_LIMIT,
    what: str = "message",
    allow_empty: bool | None = None,
) -> tuple[str, list[dict[str, object]]]:
    """Parse and validate a message text or caption like the Bot API; raise :class:`BadRequest`.

    ``parse_mode`` "HTML" (any case) parses markup; None, "" and "none" mean plain text; other
    modes are rejected (the bot only uses HTML). The result is stripped and normalised like
    Telegram does, and its UTF-16 length must not exceed ``limit``. ``what`` names the field in
    errors ("message" or "message caption"); ``allow_empty`` defaults to True unless ``what`` is
    "message" (captions may be empty; an empty result is then ``("", [])``).
    """
    if allow_empty is None:
        allow_empty = what != "message"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequest("Bad Request: strings must be encoded in UTF-8") from None
    empty_error = BadRequest(f"Bad Request: {what} text is empty")
    if not text:
        if allow_empty:
            return "", []
        raise empty_error
    mode = (parse_mode or "").lower()
    entities: list[_Entity]
    if mode in ("", "none"):
        plain, entities = text, []
    elif mode == "html":
        try:
            plain, entities = _parse_html_entities(text)
        except EntityParseError as err:
            raise BadRequest(f"Bad Request: can't parse entities: {err}") from None
    else:
        raise BadRequest("Bad Request: unsupported parse_mode")
    fixed = _fix_formatted(plain, entities, allow_empty)
    if fixed is None:
        raise empty_error
    result, entities = fixed
    if utf16_length(result) > limit:
        raise BadRequest(f"Bad Request: {what} is too long")
    return result, [entity.to_dict() for entity in entities]


# --------------------------------------------------------------------------------------------
# Entities of incoming user messages
# --------------------------------------------------------------------------------------------


def _is_word_character(ch: str) -> bool:
    """tdlib's is_word_character: letters, numbers and '_'."""
    return ch == "_" or unicodedata.category(ch)[0] in ("L", "N")


def _is_ascii_word(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch == "_")


def _match_bot_commands(text: str) -> list[tuple[int, int, str]]:
    """tdlib's match_bot_commands: /cmd or /cmd@bot_name at a word boundary."""
    found: list[tuple[int, int, str]] = []
    size = len(text)
    pos = 0
    while True:
        pos = text.find("/", pos)
        if pos < 0:
            return found
        if pos > 0 and (_is_word_character(text[pos - 1]) or text[pos - 1] in "/<>"):
            pos += 1
            continue
        begin = pos
        pos += 1
        command_begin = pos
        while pos < size and _is_ascii_word(text[pos]):
            pos += 1
        if not 1 <= pos - command_begin <= 64:
            continue
        end = pos
        if pos < size and text[pos] == "@":
            pos += 1
            mention_begin = pos
            while pos < size and _is_ascii_word(text[pos]):
                pos += 1
            if not 3 <= pos - mention_begin <= 32:
                continue
            end = pos
        if pos < size and (_is_word_character(text[pos]) or text[pos] in "/<>"):
            continue
        found.append((begin, end, "bot_command"))


def _match_mentions(text: str) -> list[tuple[int, int, str]]:
    """tdlib's match_mentions: @username of 2..32 characters at a word boundary."""
    found: list[tuple[int, int, str]] = []
    size = len(text)
    pos = 0
    while True:
        pos = text.find("@", pos)
        if pos < 0:
            return found
        if pos > 0 and _is_word_character(text[pos - 1]):
            pos += 1
            continue
        begin = pos
        pos += 1
        while pos < size and _is_ascii_word(text[pos]):
            pos += 1
        if not 2 <= pos - begin - 1 <= 32:
            continue
        if pos < size and _is_word_character(text[pos]):
            continue
        found.append((begin, pos, "mention"))


_URL_RE = re.compile(r"(?<![\w/@.])https?://[^\s<>\"]+", re.IGNORECASE)


def _match_urls(text: str) -> list[tuple[int, int, str]]:
    """A simplified http(s):// URL matcher (tdlib's is far more thorough)."""
    found: list[tuple[int, int, str]] = []
    for match in _URL_RE.finditer(text):
        url = match.group(0).rstrip(".,:;!?'\"")
        while url.endswith(")") and url.count(")") > url.count("("):
            url = url[:-1]
        host = url.split("://", 1)[1].split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
        if "." in host and not host.endswith("."):
            found.append((match.start(), match.start() + len(url), "url"))
    return found


def bot_command_entities(text: str) -> list[dict[str, object]]:
    """Entities Telegram adds to an incoming user message.

    'bot_command' for /cmd or /cmd@botname at a word start, 'mention' for @username and 'url'
    for http(s) links; offsets and lengths are in UTF-16 code units, sorted by offset.
    """
    candidates = _match_bot_commands(text) + _match_mentions(text) + _match_urls(text)
    candidates.sort(key=lambda item: (item[0], -item[1]))
    units = [0]
    for ch in text:
        units.append(units[-1] + (2 if ord(ch) > 0xFFFF else 1))
    result: list[dict[str, object]] = []
    last_end = 0
    for begin, end, kind in candidates:
        if begin < last_end:
            continue
        last_end = end
        result.append({"type": kind, "offset": units[begin], "length": units[end] - units[begin]})
    return result
