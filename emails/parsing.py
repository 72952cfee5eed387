"""Reading a raw email (bytes, as IMAP hands it over) into the facts LeadHunter logs.

A pure engine, no database: `parse_message(raw)` → `ParsedEmail`. Mail in the wild is broken in
every way, so nothing here raises on bad input:
- the stdlib parser with `policy.default` (it records defects instead of failing); a header it
  cannot parse is read raw;
- text in any charset Python knows; an unknown or lying charset falls back to UTF-8, then
  Latin-1 (which decodes any byte), so a body is never lost to a typo in its header;
- the body is the first text/plain part, else the HTML part turned into plain text
  (`html_to_text`), cut a little over BODY_MAX_CHARS (email_log cuts and flags it);
  attachments are never kept, only their names;
- no Message-ID (or an absurd one): a stable synthetic one, a hash of the headers, so reading
  the same message twice still finds it logged;
- auto-replies and out-of-office by their headers or subject; bounces (delivery-status reports,
  MAILER-DAEMON) with the addresses that failed;
- forwards, attached (message/rfc822) or inline ("---------- Forwarded message ---------",
  "-----Original Message-----", "Begin forwarded message:" and their translations), with the
  original sender.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser

from emails.models import BODY_MAX_CHARS, MESSAGE_ID_MAX_LENGTH

ADDRESS_MAX_LENGTH = 320
NAME_MAX_LENGTH = 200
# An HTML part is cut to this many characters before conversion: enough for any body we keep.
HTML_MAX_CHARS = 4 * BODY_MAX_CHARS
SYNTHETIC_DOMAIN = "synthetic.leadhunter"

# Where a mail server says who the message was delivered to: a BCC leaves no trace in To/Cc.
DELIVERY_HEADERS = (
    "to",
    "cc",
    "bcc",
    "delivered-to",
    "x-original-to",
    "envelope-to",
    "x-forwarded-to",
    "resent-to",
)
AUTO_REPLY_SUBJECT = re.compile(
    r"\b(out of (the )?office|automatic reply|auto[- ]?reply|auto[- ]?response|autoreply|"
    r"abwesenheit|automatische antwort|réponse automatique|absence du bureau|"
    r"respuesta automática|fuera de la oficina|risposta automatica|fuori sede|"
    r"afwezigheid|automatisch antwoord)",
    re.IGNORECASE,
)
FORWARD_SUBJECT = re.compile(r"^\s*((fwd?|fw|wg|tr|rv|doorst)\s*:\s*)+", re.IGNORECASE)
INLINE_FORWARD_MARKER = re.compile(
    r"^\s*(-{2,}\s*(forwarded message|original message|weitergeleitete nachricht|"
    r"ursprüngliche nachricht|message transféré|message d'origine|mensaje reenviado|"
    r"mensaje original|messaggio inoltrato|messaggio originale|doorgestuurd bericht|"
    r"oorspronkelijk bericht)\s*-{2,}|begin forwarded message:|"
    r"anfang der weitergeleiteten nachricht:)\s*$",
    re.IGNORECASE | re.MULTILINE,
)
INLINE_HEADER = re.compile(
    r"^\s*[>*\s]*(from|von|de|da|van|date|datum|sent|gesendet|envoyé|enviado|inviato|"
    r"verzonden|subject|betreff|objet|asunto|oggetto|onderwerp)\s*:\s*\**\s*(.*)$",
    re.IGNORECASE,
)
MAILER_DAEMON = re.compile(r"^(mailer-daemon|postmaster|mail-daemon)@", re.IGNORECASE)
DSN_RECIPIENT = re.compile(r"^\s*final-recipient\s*:\s*[^;]*;\s*<?([^>\s]+@[^>\s]+)>?", re.I | re.M)
DSN_ACTION = re.compile(r"^\s*action\s*:\s*(\w+)", re.IGNORECASE | re.MULTILINE)
CHARSET_ALIASES = {"unknown-8bit": "utf-8", "x-unknown": "utf-8", "us-ascii": "utf-8"}


@dataclass(frozen=True)
class Address:
    name: str
    address: str


@dataclass(frozen=True)
class ParsedEmail:
    """What LeadHunter reads from one message. `original` is the forwarded message, if any."""

    message_id: str
    thread_key: str
    from_: Address | None
    to: list[Address]
    cc: list[Address]
    # Every address the message was delivered to (To, Cc, Bcc, Delivered-To, …).
    delivered_to: list[str]
    subject: str
    body_text: str
    attachment_names: list[str]
    sent_at: datetime
    is_auto_reply: bool = False
    is_bounce: bool = False
    bounced_addresses: list[str] = field(default_factory=list)
    original: ParsedEmail | None = None

    def participants(self) -> list[Address]:
        """From, To and Cc, each address once."""
        seen: dict[str, Address] = {}
        for person in [*([self.from_] if self.from_ else []), *self.to, *self.cc]:
            seen.setdefault(person.address, person)
        return list(seen.values())


def parse_message(raw: bytes, *, received_at: datetime | None = None) -> ParsedEmail:
    """The facts of a raw message; never raises on malformed input."""
    message = BytesParser(policy=policy.default).parsebytes(raw)
    return _parse(message, received_at=received_at or datetime.now(tz=UTC), depth=0)


def _parse(message: Message, *, received_at: datetime, depth: int) -> ParsedEmail:
    from_list = _addresses(message, "from")
    sender = from_list[0] if from_list else None
    to = _addresses(message, "to")
    cc = _addresses(message, "cc")
    delivered = list(
        dict.fromkeys(
            person.address for name in DELIVERY_HEADERS for person in _addresses(message, name)
        )
    )
    subject = _header(message, "subject")[:MESSAGE_ID_MAX_LENGTH]
    sent_at = _date(_header(message, "date")) or received_at
    body_text = _body_text(message)
    attachments = _attachment_names(message)
    message_id = _message_id(message, sender=sender, to=to, cc=cc, subject=subject)
    is_bounce, bounced = _bounce(message, sender)
    original = None
    if depth == 0 and not is_bounce:
        original = _forwarded(message, received_at=received_at, depth=depth)
        if original is None:
            original = _inline_forward(body_text, subject=subject, fallback_sent_at=sent_at)
    return ParsedEmail(
        message_id=message_id,
        thread_key=_thread_key(message),
        from_=sender,
        to=to,
        cc=cc,
        delivered_to=delivered,
        subject=subject,
        body_text=body_text,
        attachment_names=attachments,
        sent_at=sent_at,
        is_auto_reply=not is_bounce and _is_auto_reply(message, subject),
        is_bounce=is_bounce,
        bounced_addresses=bounced,
        original=original,
    )


# --- Headers ---------------------------------------------------------------------------------


def _header(message: Message, name: str) -> str:
    """A header as text, or "" when absent. A header the parser chokes on is read raw."""
    try:
        value = message.get(name)
        text = "" if value is None else str(value)
    except Exception:  # any malformed header: fall back to its raw text
        text = next((raw for key, raw in _raw_items(message) if key.lower() == name), "")
    return " ".join(text.split())


def _raw_items(message: Message) -> list[tuple[str, str]]:
    # The headers as received (policy.default's parsing skipped): raw_items() is part of the
    # email package's API (email.message.EmailMessage), though typeshed lacks it on Message.
    raw_items = getattr(message, "raw_items", None)
    return [(key, str(value)) for key, value in raw_items()] if raw_items else []


def _addresses(message: Message, name: str) -> list[Address]:
    values = []
    try:
        values = [str(value) for value in message.get_all(name) or []]
    except Exception:  # a malformed address header: read the raw text
        values = [raw for key, raw in _raw_items(message) if key.lower() == name]
    found: dict[str, Address] = {}
    for display, address in getaddresses(values):
        address = address.strip().strip("<>").lower()
        if "@" not in address or " " in address or len(address) > ADDRESS_MAX_LENGTH:
            continue
        found.setdefault(address, Address(name=display.strip()[:NAME_MAX_LENGTH], address=address))
    return list(found.values())


def parse_address_line(text: str) -> Address | None:
    """The address in a typed line like `Dana Buyer <dana@buyer.example>` or
    `Dana Buyer [mailto:dana@buyer.example]` (Outlook's inline forwards)."""
    text = re.sub(r"\[mailto:([^\]]+)\]", r"<\1>", text).replace("*", "")
    pairs = getaddresses([text])
    for display, address in pairs:
        address = address.strip().lower()
        if "@" in address and " " not in address and len(address) <= ADDRESS_MAX_LENGTH:
            return Address(name=display.strip().strip('"')[:NAME_MAX_LENGTH], address=address)
    return None


def _date(text: str) -> datetime | None:
    if not text:
        return None
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _clean_id(text: str) -> str:
    return text.strip().strip("<>").strip()


def _message_id(
    message: Message, *, sender: Address | None, to: list[Address], cc: list[Address], subject: str
) -> str:
    found = (
        _clean_id(_header(message, "message-id").split(" ")[0]) if message.get("message-id") else ""
    )
    if found and len(found) <= MESSAGE_ID_MAX_LENGTH - 10:
        return found
    if found:  # absurdly long: hash it, stably
        return f"{hashlib.sha256(found.encode()).hexdigest()}@{SYNTHETIC_DOMAIN}"
    return synthetic_message_id(
        sender.address if sender else "",
        ",".join(person.address for person in [*to, *cc]),
        _header(message, "date"),
        subject,
    )


def synthetic_message_id(*parts: str) -> str:
    """A stable Message-ID for a message without one: the same headers give the same id."""
    digest = hashlib.sha256("\n".join(parts).encode("utf-8", "replace")).hexdigest()
    return f"{digest[:40]}@{SYNTHETIC_DOMAIN}"


def _thread_key(message: Message) -> str:
    references = _header(message, "references").split()
    if references:
        return _clean_id(references[0])[:MESSAGE_ID_MAX_LENGTH]
    in_reply_to = _header(message, "in-reply-to").split()
    return _clean_id(in_reply_to[0])[:MESSAGE_ID_MAX_LENGTH] if in_reply_to else ""


def _is_auto_reply(message: Message, subject: str) -> bool:
    auto_submitted = _header(message, "auto-submitted").lower()
    if auto_submitted and auto_submitted != "no":
        return True
    if message.get("x-autoreply") or message.get("x-autorespond"):
        return True
    if _header(message, "precedence").lower() == "auto_reply":
        return True
    return bool(AUTO_REPLY_SUBJECT.search(subject))


# --- Bounces ---------------------------------------------------------------------------------


def _bounce(message: Message, sender: Address | None) -> tuple[bool, list[str]]:
    is_report = (
        message.get_content_type() == "multipart/report"
        and str(message.get_param("report-type", "")).lower() == "delivery-status"
    )
    from_daemon = sender is not None and bool(MAILER_DAEMON.match(sender.address))
    if not is_report and not from_daemon:
        return False, []
    failed: list[str] = []
    for part in _walk(message):
        if part.get_content_type() == "message/delivery-status":
            failed += _dsn_failed(_raw_text(part))
    failed += [a.address for a in _addresses(message, "x-failed-recipients")]
    if not failed:
        # A plain-text bounce: the failed message's headers are attached; its To bounced.
        for part in _walk(message):
            if part.get_content_type() in ("text/rfc822-headers", "message/rfc822"):
                inner = BytesParser(policy=policy.default).parsebytes(_raw_bytes(part))
                failed += [a.address for a in _addresses(inner, "to")]
                break
    return True, list(dict.fromkeys(address.lower() for address in failed))


def _dsn_failed(text: str) -> list[str]:
    """Final-Recipient of each per-recipient block whose Action is failed (or not given)."""
    failed = []
    for block in re.split(r"\n\s*\n", text):
        recipient = DSN_RECIPIENT.search(block)
        action = DSN_ACTION.search(block)
        if recipient and (action is None or action.group(1).lower() == "failed"):
            failed.append(recipient.group(1))
    return failed


def _raw_bytes(part: Message) -> bytes:
    payload = part.get_payload()
    if isinstance(payload, list):
        return b"\n".join(sub.as_bytes() for sub in payload if isinstance(sub, Message))
    decoded = part.get_payload(decode=True)
    return decoded if isinstance(decoded, bytes) else str(payload).encode("utf-8", "replace")


def _raw_text(part: Message) -> str:
    return _raw_bytes(part).decode("utf-8", "replace")


# --- Bodies and attachments ------------------------------------------------------------------


def _walk(message: Message) -> list[Message]:
    try:
        return list(message.walk())
    except Exception:  # a broken MIME tree: the top part alone
        return [message]


def _is_attachment(part: Message) -> bool:
    try:
        disposition = (part.get_content_disposition() or "").lower()
        filename = part.get_filename()
    except Exception:
        return False
    return disposition == "attachment" or bool(filename)


def _attachment_names(message: Message) -> list[str]:
    names = []
    for part in _walk(message):
        if part.is_multipart() or not _is_attachment(part):
            continue
        try:
            name = part.get_filename() or "(unnamed attachment)"
        except Exception:
            name = "(unnamed attachment)"
        names.append(" ".join(str(name).split())[:255])
    return names


def _body_text(message: Message) -> str:
    plain = html = None
    for part in _walk(message):
        if part.is_multipart() or _is_attachment(part):
            continue
        kind = part.get_content_type()
        if kind == "message/rfc822":
            break  # a forwarded message's body is the forward's, not this one's
        if kind == "text/plain" and plain is None:
            plain = part
        elif kind == "text/html" and html is None:
            html = part
    if plain is not None:
        return _cut(decode_text(plain))
    if html is not None:
        return _cut(html_to_text(decode_text(html)[:HTML_MAX_CHARS]))
    return ""


def _cut(text: str) -> str:
    # One character over the limit, so email_log still sees that it was cut.
    return text.strip()[: BODY_MAX_CHARS + 1]


def decode_text(part: Message) -> str:
    """A text part as str, whatever its charset says: unknown charsets fall back to UTF-8,
    then Latin-1 (which decodes any byte sequence)."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        payload = str(part.get_payload()).encode("utf-8", "replace")
    payload = payload[: HTML_MAX_CHARS * 4]
    charset = (part.get_content_charset() or "utf-8").lower()
    charset = CHARSET_ALIASES.get(charset, charset)
    for candidate in (charset, "utf-8"):
        try:
            return payload.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("latin-1")


class _TextFromHtml(HTMLParser):
    """Visible text of an HTML email: scripts, styles and heads dropped, blocks on new lines."""

    BLOCKS = frozenset(
        {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre"}
        | {"table", "ul", "ol", "hr", "section", "article"}
    )
    HIDDEN = frozenset({"script", "style", "head", "title", "template"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")
        if tag == "li":
            self.parts.append("- ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Plain text of an HTML body; markup is gone, so the page shows it escaped like any text."""
    parser = _TextFromHtml()
    # HTMLParser is lenient; whatever it raises on, keep what it read up to there.
    with contextlib.suppress(Exception):
        parser.feed(html)
        parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


# --- Forwards --------------------------------------------------------------------------------


def _forwarded(message: Message, *, received_at: datetime, depth: int) -> ParsedEmail | None:
    """The first attached message (message/rfc822), parsed, if this message forwards one."""
    for part in _walk(message)[1:]:
        if part.get_content_type() != "message/rfc822":
            continue
        try:
            inner = part.get_content() if isinstance(part, EmailMessage) else part.get_payload(0)
        except Exception:
            inner = None
        if not isinstance(inner, Message):
            inner = BytesParser(policy=policy.default).parsebytes(_raw_bytes(part))
        return _parse(inner, received_at=received_at, depth=depth + 1)
    return None


def _inline_forward(body: str, *, subject: str, fallback_sent_at: datetime) -> ParsedEmail | None:
    """The original sender of an inline forward, from the "From:" line under its marker."""
    marker = INLINE_FORWARD_MARKER.search(body)
    if marker is None:
        return None
    header_lines: dict[str, str] = {}
    for line in body[marker.end() :].lstrip("\n").splitlines()[:12]:
        found = INLINE_HEADER.match(line)
        if found is None:
            if header_lines and not line.strip():
                break
            continue
        label = found.group(1).lower()
        key = {"von": "from", "de": "from", "da": "from", "van": "from"}.get(label, label)
        if key in ("datum", "sent", "gesendet", "envoyé", "enviado", "inviato", "verzonden"):
            key = "date"
        if key in ("betreff", "objet", "asunto", "oggetto", "onderwerp"):
            key = "subject"
        header_lines.setdefault(key, found.group(2).strip())
    sender = parse_address_line(header_lines.get("from", ""))
    if sender is None:
        return None
    original_subject = header_lines.get("subject") or FORWARD_SUBJECT.sub("", subject)
    date_text = header_lines.get("date", "")
    return ParsedEmail(
        # Stable across forwarding the same message twice (an inline forward keeps no id).
        message_id=synthetic_message_id(sender.address, date_text, original_subject),
        thread_key="",
        from_=sender,
        to=[],
        cc=[],
        delivered_to=[],
        subject=original_subject[:MESSAGE_ID_MAX_LENGTH],
        body_text=body,
        attachment_names=[],
        sent_at=_date(date_text) or fallback_sent_at,
    )
