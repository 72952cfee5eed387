"""Reading raw messages shaped like real ones: forwards, HTML-only, charsets, malformed MIME,
huge messages, auto-replies and bounces. No database, no server: parsing is a pure engine."""

from __future__ import annotations

from datetime import UTC, datetime

from emails.models import BODY_MAX_CHARS
from emails.parsing import html_to_text, parse_message
from tests.emails import messages


def test_a_bcc_copy_knows_every_address_it_was_delivered_to():
    parsed = parse_message(messages.bcc_to_lead())

    assert parsed.message_id == "CAKx1@mail.gmail.com"
    assert parsed.from_ is not None
    assert parsed.from_.address == messages.SAM
    assert [person.address for person in parsed.to] == [messages.DANA]
    assert "crm+token@example.com" in parsed.delivered_to
    assert parsed.sent_at == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert parsed.body_text.startswith("Hi Dana,")
    assert not parsed.is_auto_reply
    assert parsed.original is None


def test_a_reply_threads_on_the_first_reference():
    parsed = parse_message(messages.reply_from_lead())

    assert parsed.thread_key == "CAKx1@mail.gmail.com"


def test_a_gmail_inline_forward_names_the_original_sender():
    parsed = parse_message(messages.GMAIL_INLINE_FORWARD)

    assert parsed.original is not None
    assert parsed.original.from_ is not None
    assert parsed.original.from_.address == "eve@prospect.example"
    assert parsed.original.from_.name == "Eve Example"
    assert parsed.original.subject == "Pricing question"
    assert "40 seats" in parsed.original.body_text


def test_an_outlook_inline_forward_names_the_original_sender_from_its_mailto():
    parsed = parse_message(messages.OUTLOOK_INLINE_FORWARD)

    assert parsed.original is not None
    assert parsed.original.from_ is not None
    assert parsed.original.from_.address == "eve@prospect.example"


def test_the_same_inline_forward_twice_has_the_same_synthetic_id():
    again = messages.GMAIL_INLINE_FORWARD.replace(b"<CAfwd1@mail.gmail.com>", b"<CAfwd2@x>")

    first = parse_message(messages.GMAIL_INLINE_FORWARD).original
    second = parse_message(again).original
    assert first is not None
    assert second is not None
    assert first.message_id == second.message_id


def test_a_forward_as_attachment_is_the_original_message_with_its_people():
    parsed = parse_message(messages.ATTACHED_FORWARD)

    original = parsed.original
    assert original is not None
    assert original.message_id == "original-intro@prospect.example"
    assert original.from_ is not None
    assert original.from_.address == "finn@prospect.example"
    assert [person.address for person in original.cc] == ["gina@prospect.example"]
    assert original.body_text == "Hello Sam, Gina and I would like a demo."
    assert original.sent_at == datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    assert parsed.body_text == "Forwarding this as an attachment."


def test_an_html_only_email_is_plain_text_without_scripts_styles_or_markup():
    parsed = parse_message(messages.HTML_ONLY)

    assert "We need SSO & audit logs." in parsed.body_text
    assert "- SAML" in parsed.body_text
    assert "<script> is just text here" in parsed.body_text
    assert "alert" not in parsed.body_text
    assert "color" not in parsed.body_text
    assert "<b>" not in parsed.body_text


def test_html_to_text_survives_broken_markup():
    assert html_to_text("<p>Hello <b>there</p></div><<>>") == "Hello there\n\n<<>>"


def test_iso_8859_1_headers_and_body_are_read():
    parsed = parse_message(messages.ISO_8859_1)

    assert parsed.from_ is not None
    assert parsed.from_.name == "Jürgen Müller"
    assert parsed.subject == "Grüße aus München"
    assert parsed.body_text == "Schöne Grüße, Jürgen"


def test_shift_jis_headers_and_body_are_read():
    parsed = parse_message(messages.SHIFT_JIS)

    assert parsed.from_ is not None
    assert parsed.from_.name == "田中"
    assert parsed.subject == "お見積もり"
    assert parsed.body_text == "よろしくお願いします。"


def test_an_unknown_charset_falls_back_without_losing_the_text():
    parsed = parse_message(messages.UNKNOWN_CHARSET)

    assert parsed.body_text == "Café and naïve"


def test_malformed_mime_gives_what_can_be_read_and_a_stable_synthetic_id():
    received = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)

    parsed = parse_message(messages.MALFORMED, received_at=received)
    again = parse_message(messages.MALFORMED, received_at=received)

    assert parsed.message_id.endswith("@synthetic.leadhunter")
    assert parsed.message_id == again.message_id
    assert parsed.sent_at == received  # the Date header is not a date
    assert "sam@seller.example" in [person.address for person in parsed.to]
    assert parsed.from_ is not None
    assert parsed.from_.address == "dana@buyer.example"


def test_a_huge_message_keeps_a_cut_body_and_only_the_attachment_name():
    raw = messages.huge_with_attachment(30)
    assert len(raw) > 30 * 1024 * 1024

    parsed = parse_message(raw)

    assert parsed.attachment_names == ["Proposal.pdf"]
    assert len(parsed.body_text) == BODY_MAX_CHARS + 1  # email_log cuts it and says so
    assert "PDF" not in parsed.body_text


def test_auto_replies_are_recognised_by_header_and_by_subject():
    assert parse_message(messages.AUTO_REPLY).is_auto_reply
    assert parse_message(messages.ABWESENHEIT).is_auto_reply
    assert not parse_message(messages.reply_from_lead()).is_auto_reply
    precedence = messages.reply_from_lead().replace(
        b"Subject:", b"Precedence: auto_reply\r\nSubject:"
    )
    assert parse_message(precedence).is_auto_reply
    assert parse_message(
        messages.reply_from_lead().replace(b"Subject:", b"X-Autoreply: yes\r\nSubject:")
    ).is_auto_reply


def test_a_bounce_names_the_address_that_failed_and_is_no_auto_reply():
    parsed = parse_message(messages.BOUNCE)

    assert parsed.is_bounce
    assert parsed.bounced_addresses == [messages.DANA]
    assert not parsed.is_auto_reply
    assert parsed.original is None
