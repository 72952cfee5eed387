"""A small read-only IMAP client over imaplib: log in, EXAMINE a folder, list UIDs, fetch.

Read-only on purpose: folders are opened with EXAMINE and messages fetched with BODY.PEEK, so
LeadHunter never marks anything read, moves or deletes it. Every failure is an `ImapError` whose
message a salesperson can act on (wrong password, unreachable server, missing folder).
"""

from __future__ import annotations

import base64
import imaplib
import re
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date
from urllib.parse import unquote, urlsplit

TIMEOUT_SECONDS = 30
# Larger messages are read in part (`ImapSession.fetch`).
MAX_MESSAGE_BYTES = 50 * 1024 * 1024
PARTIAL_TEXT_BYTES = 2 * 1024 * 1024
RFC822_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class ImapError(Exception):
    """The mailbox could not be read; the message says why in plain words."""


class ImapAuthError(ImapError):
    """The server refused the username or password."""


@dataclass(frozen=True)
class ImapAccount:
    host: str
    port: int
    use_ssl: bool
    username: str
    password: str

    @classmethod
    def from_url(cls, url: str) -> tuple[ImapAccount, str]:
        """imaps://user:password@host[:port]/FOLDER → the account and the folder (INBOX)."""
        parts = urlsplit(url)
        use_ssl = parts.scheme == "imaps"
        account = cls(
            host=parts.hostname or "",
            port=parts.port or (993 if use_ssl else 143),
            use_ssl=use_ssl,
            username=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
        )
        return account, unquote(parts.path.lstrip("/")) or "INBOX"


def _text(data: object) -> str:
    if isinstance(data, list):
        data = b" ".join(part for part in data if isinstance(part, bytes))
    return data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data)


def imap_folder_name(folder: str) -> str:
    """A folder name as IMAP spells it: modified UTF-7 (RFC 3501 5.1.3), so "Éléments envoyés"
    (Outlook's Sent folder in French) is "&AMk-l&AOk-ments envoy&AOk-s"."""
    spelled: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            encoded = base64.b64encode("".join(pending).encode("utf-16-be")).decode()
            spelled.append("&" + encoded.rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for char in folder:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            spelled.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return "".join(spelled)


def _quote(folder: str) -> str:
    name = imap_folder_name(folder)
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ImapSession:
    def __init__(self, connection: imaplib.IMAP4) -> None:
        self.connection = connection

    def open_folder(self, folder: str) -> int:
        """Open `folder` read-only (EXAMINE); its UIDVALIDITY."""
        try:
            status, _data = self.connection.select(_quote(folder), readonly=True)
        except imaplib.IMAP4.error as error:
            raise ImapError(f"Could not open the folder “{folder}”: {error}") from error
        if status != "OK":
            raise ImapError(f"The folder “{folder}” does not exist or cannot be opened.")
        validity = 0
        for line in self.connection.response("UIDVALIDITY")[1] or []:
            if isinstance(line, bytes) and line.isdigit():
                validity = int(line)
        return validity

    def uids_after(self, after_uid: int, *, since: date | None = None) -> list[int]:
        """UIDs above `after_uid` in the open folder, ascending; with `since`, only messages
        from that day on (a folder read for the first time)."""
        if since is not None:
            # IMAP's date: 1-Dec-2026, English month names whatever the locale.
            criteria = f"SINCE {since.day}-{MONTHS[since.month - 1]}-{since.year}"
        else:
            criteria = f"UID {after_uid + 1}:*"
        status, data = self.connection.uid("SEARCH", criteria)
        if status != "OK":
            raise ImapError("The server refused to list the messages of the folder.")
        # "n:*" always matches the last message, even when its UID is below n.
        return sorted(int(uid) for uid in _text(data).split() if int(uid) > after_uid)

    def fetch(self, uid: int) -> bytes | None:
        """The whole message, without setting \\Seen (BODY.PEEK); None if it is gone.

        A message over MAX_MESSAGE_BYTES (a video attached, say) is read as its header and
        the first PARTIAL_TEXT_BYTES of its text: enough for the body LeadHunter keeps,
        without holding hundreds of megabytes in a worker's memory.
        """
        size = self._size(uid)
        if size is not None and size > MAX_MESSAGE_BYTES:
            header = self._fetch_part(uid, "BODY.PEEK[HEADER]")
            text = self._fetch_part(uid, f"BODY.PEEK[TEXT]<0.{PARTIAL_TEXT_BYTES}>")
            return None if header is None else header + (text or b"")
        return self._fetch_part(uid, "BODY.PEEK[]")

    def _size(self, uid: int) -> int | None:
        status, data = self.connection.uid("FETCH", str(uid), "(RFC822.SIZE)")
        if status != "OK":
            raise ImapError(f"The server refused to hand over message {uid}.")
        found = RFC822_SIZE.search(_text(data).encode())
        return int(found.group(1)) if found else None

    def _fetch_part(self, uid: int, part: str) -> bytes | None:
        status, data = self.connection.uid("FETCH", str(uid), f"({part})")
        if status != "OK":
            raise ImapError(f"The server refused to hand over message {uid}.")
        for item in data:
            if isinstance(item, tuple) and len(item) == 2:
                return item[1]
        return None

    def fetch_headers(self, uid: int) -> bytes | None:
        """The address headers only: enough to decide whether a message involves a lead."""
        status, data = self.connection.uid(
            "FETCH", str(uid), "(BODY.PEEK[HEADER.FIELDS (FROM TO CC)])"
        )
        if status != "OK":
            raise ImapError(f"The server refused to hand over message {uid}.")
        for item in data:
            if isinstance(item, tuple) and len(item) == 2:
                return item[1]
        return None


@contextmanager
def imap_session(account: ImapAccount) -> Iterator[ImapSession]:
    """A logged-in session; `ImapError` (or `ImapAuthError`) with a readable reason if not."""
    try:
        if account.use_ssl:
            context = ssl.create_default_context()
            connection: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                account.host, account.port, ssl_context=context, timeout=TIMEOUT_SECONDS
            )
        else:
            connection = imaplib.IMAP4(account.host, account.port, timeout=TIMEOUT_SECONDS)
    except ssl.SSLError as error:
        # The usual cause: SSL asked of a port that speaks plain IMAP (143, or a test server).
        hint = (
            " The server did not answer in SSL on this port: use its SSL port (usually 993), "
            "or untick SSL if it only offers plain IMAP."
            if "WRONG_VERSION_NUMBER" in str(error)
            else ""
        )
        raise ImapError(
            f"Could not start a secure connection to {account.host}:{account.port} ({error})."
            + hint
        ) from error
    except (OSError, imaplib.IMAP4.error) as error:
        reason = "timed out" if isinstance(error, socket.timeout) else str(error) or "refused"
        raise ImapError(
            f"Could not reach the mail server {account.host}:{account.port} ({reason})."
        ) from error
    try:
        try:
            connection.login(account.username, account.password)
        except imaplib.IMAP4.error as error:
            said = _text(error.args[0]) if error.args else "no reason given"
            raise ImapAuthError(
                f"The mail server refused the username or password ({said}). "
                "Gmail and Microsoft 365 need an app password, not your usual one."
            ) from error
        except OSError as error:
            raise ImapError(f"The mail server {account.host} hung up ({error}).") from error
        try:
            yield ImapSession(connection)
        except (OSError, imaplib.IMAP4.abort) as error:
            raise ImapError(f"The connection to {account.host} broke ({error}).") from error
    finally:
        with suppress(OSError, imaplib.IMAP4.error):
            connection.logout()
