"""Tests for the emulator's Telegram-exact HTML parser and message text rules."""

from __future__ import annotations

import pytest

from bot.emulator.html_entities import (
    BadRequest,
    EntityParseError,
    bot_command_entities,
    check_message_text,
    parse_html,
    utf16_length,
)

STADIUM = "🏟"  # outside the BMP: 4 UTF-8 bytes, 2 UTF-16 code units


def ent(kind: str, offset: int, length: int, **extra: object) -> dict[str, object]:
    """Build an expected Bot API entity dict."""
    return {"type": kind, "offset": offset, "length": length, **extra}


def parse_error(text: str) -> str:
    """Return the EntityParseError message for ``text``."""
    with pytest.raises(EntityParseError) as info:
        parse_html(text)
    return str(info.value)


def bad_request(text: str, parse_mode: str | None = "HTML", **kwargs: object) -> str:
    """Return the BadRequest description for ``check_message_text``."""
    with pytest.raises(BadRequest) as info:
        check_message_text(text, parse_mode, **kwargs)  # type: ignore[arg-type]
    return info.value.description


# --- utf16_length ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", 0), ("abc", 3), ("สวัสดี", 6), ("😀", 2), ("a😀ก", 4), ("👍🏽", 4)],
)
def test_utf16_length(text: str, expected: int) -> None:
    assert utf16_length(text) == expected


# --- parse_html: valid markup ---------------------------------------------------------------


def test_plain_text_passes_through() -> None:
    assert parse_html("hello world") == ("hello world", [])
    assert parse_html("") == ("", [])


@pytest.mark.parametrize(
    ("tag", "kind"),
    [
        ("b", "bold"),
        ("strong", "bold"),
        ("i", "italic"),
        ("em", "italic"),
        ("u", "underline"),
        ("ins", "underline"),
        ("s", "strikethrough"),
        ("strike", "strikethrough"),
        ("del", "strikethrough"),
        ("tg-spoiler", "spoiler"),
        ("code", "code"),
        ("pre", "pre"),
        ("blockquote", "blockquote"),
    ],
)
def test_simple_tags(tag: str, kind: str) -> None:
    text = f"➡️ ➡️<{tag}>➡️ ➡️</{tag}>"
    assert parse_html(text) == ("➡️ ➡️➡️ ➡️", [ent(kind, 5, 5)])


def test_tag_names_are_case_insensitive() -> None:
    assert parse_html("<B>x</b><Strong>y</STRONG>") == (
        "xy",
        [ent("bold", 0, 1), ent("bold", 1, 1)],
    )


def test_nested_markup_thai_and_emoji_offsets() -> None:
    text, entities = parse_html("<b>สวัสดี <i>ชาวโลก 😀</i></b> <u>🎉ok</u>")
    assert text == "สวัสดี ชาวโลก 😀 🎉ok"
    assert entities == [ent("bold", 0, 16), ent("italic", 7, 9), ent("underline", 17, 4)]


def test_tdlib_vectors_with_entities() -> None:
    s = STADIUM
    assert parse_html(f"{s} {s}<i>{s} &lt{s}</i>") == (f"{s} {s}{s} <{s}", [ent("italic", 5, 6)])
    assert parse_html(f"{s} {s}<i>{s} &gt;<b aba   =   caba>&lt{s}</b></i>") == (
        f"{s} {s}{s} ><{s}",
        [ent("italic", 5, 7), ent("bold", 9, 3)],
    )
    assert parse_html(f"{s} {s}&lt;<i    aba  =  190azAz-.   >a</i>") == (
        f"{s} {s}<a",
        [ent("italic", 6, 1)],
    )
    assert parse_html(f"{s} {s}&lt;<i    aba  =  '&lt;&gt;&quot;'>a</>") == (
        f"{s} {s}<a",
        [ent("italic", 6, 1)],
    )
    assert parse_html(f"{s} {s}&lt;<i>a</    >") == (f"{s} {s}<a", [ent("italic", 6, 1)])
    assert parse_html(f"{s} {s}&lt;<i>a</i   >") == (f"{s} {s}<a", [ent("italic", 6, 1)])


def test_bare_attribute_is_ignored() -> None:
    assert parse_html("<i aba>a</i>") == ("a", [ent("italic", 0, 1)])


def test_zero_length_entities_are_dropped() -> None:
    assert parse_html(f"{STADIUM} {STADIUM}&lt;<b></b>") == (f"{STADIUM} {STADIUM}<", [])
    assert parse_html("<b><i></i></b>x") == ("x", [])


def test_raw_parser_keeps_whitespace_entities() -> None:
    assert parse_html("<i>\t</i>") == ("\t", [ent("italic", 0, 1)])
    assert parse_html("<i>\n</i>") == ("\n", [ent("italic", 0, 1)])


def test_html_entities_decoding() -> None:
    text = "&lt;&gt;&amp;&quot;&laquo;&raquo;&#12345678;"
    assert parse_html(text) == ('<>&"&laquo;&raquo;&#12345678;', [])
    assert parse_html("a &amp; b &amp;amp; &nbsp; &copy;") == ("a & b &amp; &nbsp; &copy;", [])
    assert parse_html("&#65;&#x42;&#67&#x44") == ("ABCD", [])
    assert parse_html("&#X41; &#0; &#; &LT; &") == ("&#X41; &#0; &#; &LT; &", [])
    assert parse_html("&#128512; <b>&#x1F600;</b>") == ("😀 😀", [ent("bold", 3, 2)])


def test_surrogate_character_references_are_rejected() -> None:
    message = (
        "Text contains invalid Unicode characters after decoding HTML entities, check for "
        "unmatched surrogate code units"
    )
    assert parse_error("&#57311;") == message
    assert parse_error("&#xDFDF") == message


def test_links() -> None:
    assert parse_html('<a href="https://example.com/path?q=1">site</a>') == (
        "site",
        [ent("text_link", 0, 4, url="https://example.com/path?q=1")],
    )
    assert parse_html("<a href=telegram.org>x</a>") == (
        "x",
        [ent("text_link", 0, 1, url="http://telegram.org/")],
    )
    assert parse_html("<a   href=  'telegram.org?&lt;'   > </a>") == (
        " ",
        [ent("text_link", 0, 1, url="http://telegram.org/?<")],
    )
    assert parse_html('<a href="HTTPS://Example.COM">x</a>')[1] == [
        ent("text_link", 0, 1, url="https://example.com/")
    ]


def test_link_without_href_uses_its_text() -> None:
    assert parse_html("<a>telegram.org</a>") == (
        "telegram.org",
        [ent("text_link", 0, 12, url="http://telegram.org/")],
    )
    assert parse_html("<a>telegram.org </a>") == ("telegram.org ", [])
    assert parse_html("<a> </a>") == (" ", [])


@pytest.mark.parametrize(
    "href", ["localhost", "ftp://example.com", "https://exa mple.com", "http://a.b:99999", ""]
)
def test_invalid_links_are_dropped(href: str) -> None:
    assert parse_html(f'<a href="{href}">x</a>') == ("x", [])


def test_user_mention_link() -> None:
    assert parse_html('<a href="tg://user?id=123456">Ann</a>') == (
        "Ann",
        [ent("text_mention", 0, 3, user={"id": 123456})],
    )
    assert parse_html('<a href="tg://resolve?domain=learncity_bot">bot</a>')[1] == [
        ent("text_link", 0, 3, url="tg://resolve?domain=learncity_bot")
    ]


def test_pre_with_language() -> None:
    s = STADIUM
    expected = (f"{s} {s}<{s} {s}<", [ent("pre", 6, 6, language="fift")])
    assert parse_html(f'{s} {s}&lt;<pre><code class="language-fift">{s} {s}&lt;</></>') == expected
    assert parse_html(f'{s} {s}&lt;<code class="language-fift"><pre>{s} {s}&lt;</></>') == expected
    # different ranges: pre and code stay separate
    assert parse_html(f'{s} {s}&lt;<pre><code class="language-fift">{s} {s}&lt;</> </>') == (
        f"{s} {s}<{s} {s}< ",
        [ent("pre", 6, 7), ent("code", 6, 6)],
    )
    # a language on a lone code tag is dropped
    assert parse_html('<code class="language-python">x</code>') == ("x", [ent("code", 0, 1)])


def test_spoiler_span_emoji_and_expandable_blockquote() -> None:
    assert parse_html('<span class="tg-spoiler">s</span>') == ("s", [ent("spoiler", 0, 1)])
    assert parse_html('<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>') == (
        "👍",
        [ent("custom_emoji", 0, 2, custom_emoji_id="5368324170671202286")],
    )
    assert parse_html("<blockquote expandable>long</blockquote>") == (
        "long",
        [ent("expandable_blockquote", 0, 4)],
    )


# --- parse_html: errors ---------------------------------------------------------------------


@pytest.mark.parametrize("tag", ["br", "p", "div", "img", "script", "unknown", "h1", "b/"])
def test_unsupported_tags(tag: str) -> None:
    assert parse_error(f"Hello<{tag}>") == f'Unsupported start tag "{tag}" at byte offset 5'


def test_byte_offsets_count_utf8_bytes() -> None:
    # each Thai letter is 3 bytes, the emoji 4: '<' is at byte 3 * 6 + 1 + 4 = 23
    assert parse_error("สวัสดี 😀<br/>") == 'Unsupported start tag "br/" at byte offset 23'
    assert parse_error(f"{STADIUM} {STADIUM}&lt;<abac aba>") == (
        'Unsupported start tag "abac" at byte offset 13'
    )


def test_bare_less_than_sign() -> None:
    assert parse_error("1 < 2") == 'Unsupported start tag "" at byte offset 2'
    assert parse_error("1<2") == "Unclosed start tag at byte offset 1"
    assert parse_error("a<") == "Unclosed start tag at byte offset 1"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"{STADIUM} {STADIUM}&lt;<abacaba", "Unclosed start tag at byte offset 13"),
        ("<b ", 'Empty attribute name in the tag "b" at byte offset 0'),
        (
            f"{STADIUM} {STADIUM}&lt;<i   =aba>",
            'Empty attribute name in the tag "i" at byte offset 13',
        ),
        (f"{STADIUM} {STADIUM}&lt;<i    aba  =  ", 'Unclosed start tag "i" at byte offset 13'),
        ("<i aba", 'Unclosed start tag "i" at byte offset 0'),
        (
            f"{STADIUM} {STADIUM}&lt;<i    aba  =  190azAz-.,",
            "Unexpected end of name token at byte offset 27",
        ),
        ("<a href=http://x.org>x</a>", "Unexpected end of name token at byte offset 8"),
        (
            f'{STADIUM} {STADIUM}&lt;<i    aba  =  "&lt;&gt;&quot;>',
            "Unclosed start tag at byte offset 13",
        ),
        (f"{STADIUM} {STADIUM}&lt;</", "Unexpected end tag at byte offset 13"),
        (f"{STADIUM} {STADIUM}&lt;<b></b></", "Unexpected end tag at byte offset 20"),
        ("a</b>", "Unexpected end tag at byte offset 1"),
        (f"{STADIUM} {STADIUM}&lt;<i>a</i   ", "Unclosed end tag at byte offset 17"),
        (
            f"{STADIUM} {STADIUM}&lt;<i>a</em   >",
            'Unmatched end tag at byte offset 17, expected "</i>", found "</em>"',
        ),
        ("<b>a<i>b</b></i>", 'Unmatched end tag at byte offset 8, expected "</i>", found "</b>"'),
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</i>", 'Can\'t find end tag corresponding to start tag "b"'),
        ("x<span>y</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 1'),
        (
            '<span class="spoiler">y</span>',
            'Tag "span" must have class "tg-spoiler" at byte offset 0',
        ),
        ('<tg-emoji emoji-id="abc">x</tg-emoji>', "Invalid custom emoji identifier specified"),
        ("<tg-emoji>x</tg-emoji>", "Invalid custom emoji identifier specified"),
    ],
)
def test_parse_errors(text: str, message: str) -> None:
    assert parse_error(text) == message


# --- check_message_text ---------------------------------------------------------------------


def test_check_plain_and_html_modes() -> None:
    assert check_message_text("<b>x</b>", None) == ("<b>x</b>", [])
    assert check_message_text("<b>x</b>", "") == ("<b>x</b>", [])
    assert check_message_text("<b>x</b>", "HTML") == ("x", [ent("bold", 0, 1)])
    assert check_message_text("<b>x</b>", "html") == ("x", [ent("bold", 0, 1)])


@pytest.mark.parametrize("mode", ["Markdown", "MarkdownV2", "garbage"])
def test_unsupported_parse_modes(mode: str) -> None:
    assert bad_request("*x*", mode) == "Bad Request: unsupported parse_mode"


def test_parse_error_becomes_bad_request() -> None:
    assert bad_request("Hello<br>world") == (
        'Bad Request: can\'t parse entities: Unsupported start tag "br" at byte offset 5'
    )
    assert bad_request("1 < 2") == (
        'Bad Request: can\'t parse entities: Unsupported start tag "" at byte offset 2'
    )


@pytest.mark.parametrize(
    ("text", "mode"),
    [("", "HTML"), ("", None), ("   \n ", None), ("<b> </b>\n", "HTML"), ("<b></b>", "HTML"),
     ("\u200b\u00a0", None), ("<i>\u2800</i>", "HTML")],
)  # fmt: skip
def test_empty_text(text: str, mode: str | None) -> None:
    assert bad_request(text, mode) == "Bad Request: message text is empty"


def test_strip_adjusts_offsets() -> None:
    assert check_message_text("  \n<b>hi</b> <i>there</i>\n\n ", "HTML") == (
        "hi there",
        [ent("bold", 0, 2), ent("italic", 3, 5)],
    )
    # trailing whitespace inside an entity is cut, leading is kept (tdlib ltrims only up to it)
    assert check_message_text("<b> hi </b>", "HTML") == (" hi", [ent("bold", 0, 3)])
    assert check_message_text("x<b>  </b>", "HTML") == ("x", [])


def test_thai_and_emoji_offsets_after_strip() -> None:
    text, entities = check_message_text("\n<b>สวัสดี</b> 😀 <i>โลก</i> ", "HTML")
    assert text == "สวัสดี 😀 โลก"
    assert entities == [ent("bold", 0, 6), ent("italic", 10, 3)]


def test_control_characters_are_cleaned() -> None:
    assert check_message_text("a\tb\r\nc\x01d", None) == ("a b\nc d", [])
    assert check_message_text("<b>a\r\rb</b>c", "HTML") == ("abc", [ent("bold", 0, 2)])
    # line/paragraph separators and bidi overrides go; LRM/RLM runs keep only the last mark
    assert check_message_text("a\u2028b\u202ec\u200e\u200e\u200fd", None) == (
        "abc\u200c\u200c\u200fd",
        [],
    )


def test_entities_are_normalised() -> None:
    # bold is cut out of code, nested code in pre is dropped, adjacent bolds merge
    assert check_message_text("<b>a<code>bc</code>d</b>", "HTML") == (
        "abcd",
        [ent("bold", 0, 1), ent("code", 1, 2), ent("bold", 3, 1)],
    )
    assert check_message_text("<pre><code>x = 1</code></pre>", "HTML") == (
        "x = 1",
        [ent("pre", 0, 5)],
    )
    assert check_message_text("<b>a</b><b>b</b>", "HTML") == ("ab", [ent("bold", 0, 2)])
    assert check_message_text("<code><i><b> </b></i></code><i>x</i>", "HTML") == (
        " x",
        [ent("code", 0, 1), ent("italic", 1, 1)],
    )
    assert check_message_text("<blockquote>q<blockquote>r</blockquote></blockquote>", "HTML") == (
        "qr",
        [ent("blockquote", 0, 2)],
    )


def test_length_limit_is_measured_after_parsing() -> None:
    markup = "<b></b>" * 700 + "<i>" + "a" * 100 + "</i>"
    assert len(markup) > 5000
    assert check_message_text(markup, "HTML") == ("a" * 100, [ent("italic", 0, 100)])
    heavy = "<b>x</b>" * 700
    assert len(heavy) > 5000
    assert check_message_text(heavy, "HTML") == ("x" * 700, [ent("bold", 0, 700)])


def test_length_limit_boundaries() -> None:
    assert check_message_text("a" * 4096, None)[0] == "a" * 4096
    assert check_message_text("<b>" + "a" * 4096 + "</b>\n\n", "HTML")[0] == "a" * 4096
    assert check_message_text("ก" * 4096, None)[0] == "ก" * 4096
    assert check_message_text("😀" * 2048, None)[0] == "😀" * 2048
    assert bad_request("a" * 4097, None) == "Bad Request: message is too long"
    assert bad_request("<b>" + "a" * 4097 + "</b>") == "Bad Request: message is too long"
    assert bad_request("😀" * 2048 + "a", None) == "Bad Request: message is too long"


def test_caption_rules() -> None:
    kwargs: dict[str, object] = {"limit": 1024, "what": "message caption"}
    assert check_message_text("x" * 1024, None, limit=1024, what="message caption")[0] == "x" * 1024
    assert bad_request("x" * 1025, None, **kwargs) == "Bad Request: message caption is too long"
    assert check_message_text("", "HTML", limit=1024, what="message caption") == ("", [])
    assert check_message_text(" <b> </b> ", "HTML", limit=1024, what="message caption") == ("", [])


def test_invalid_utf8_is_rejected() -> None:
    assert bad_request("a\ud800b", None) == "Bad Request: strings must be encoded in UTF-8"


# --- bot_command_entities -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/start", [ent("bot_command", 0, 6)]),
        ("/start payload", [ent("bot_command", 0, 6)]),
        ("/help@learncity_bot", [ent("bot_command", 0, 19)]),
        ("hello /help", [ent("bot_command", 6, 5)]),
        ("😀 /help", [ent("bot_command", 3, 5)]),
        ("สวัสดี /start", [ent("bot_command", 7, 6)]),
        ("a/b", []),
        ("/", []),
        ("/start@ab", []),
        ("//start", []),
        ("/start/x", []),
    ],
)
def test_bot_command_entities(text: str, expected: list[dict[str, object]]) -> None:
    assert bot_command_entities(text) == expected


def test_mentions_and_urls() -> None:
    assert bot_command_entities("hi @someone, see https://example.com/x.") == [
        ent("mention", 3, 8),
        ent("url", 17, 21),
    ]
    assert bot_command_entities("mail a@b.com") == []
