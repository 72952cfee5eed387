"""Raw messages shaped like real ones (headers as Gmail, Outlook, Apple Mail and mail servers
write them), for the parsing and polling tests."""

from __future__ import annotations

import base64

SAM = "sam@seller.example"
DANA = "dana@buyer.example"


def crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode()


def bcc_to_lead(
    *,
    to: str = DANA,
    bcc: str = "crm+TOKEN@example.com",
    message_id: str = "<CAKx1@mail.gmail.com>",
    subject: str = "Your rollout plan",
) -> bytes:
    """Sam writes to a lead and BCCs the capture address (Gmail keeps Bcc in the copy)."""
    return crlf(
        f"""Return-Path: <{SAM}>
Delivered-To: {bcc}
From: Sam Seller <{SAM}>
To: Dana Buyer <{to}>
Bcc: {bcc}
Subject: {subject}
Date: Tue, 01 Dec 2026 10:00:00 +0100
Message-ID: {message_id}
MIME-Version: 1.0
Content-Type: text/plain; charset="UTF-8"

Hi Dana,

here is the plan for the rollout we discussed.

Sam
"""
    )


def reply_from_lead(*, to: str = SAM, message_id: str = "<reply-1@buyer.example>") -> bytes:
    return crlf(
        f"""From: Dana Buyer <{DANA}>
To: Sam Seller <{to}>
Subject: Re: Your rollout plan
Date: Wed, 02 Dec 2026 09:15:00 +0000
Message-ID: {message_id}
In-Reply-To: <CAKx1@mail.gmail.com>
References: <CAKx1@mail.gmail.com>
Content-Type: text/plain; charset=utf-8

Sounds good, let's talk on Thursday.
"""
    )


GMAIL_INLINE_FORWARD = crlf(
    f"""From: Sam Seller <{SAM}>
To: crm+TOKEN@example.com
Subject: Fwd: Pricing question
Date: Thu, 03 Dec 2026 08:00:00 +0000
Message-ID: <CAfwd1@mail.gmail.com>
Content-Type: text/plain; charset="UTF-8"

FYI

---------- Forwarded message ---------
From: Eve Example <eve@prospect.example>
Date: Wed, Dec 2, 2026 at 4:12 PM
Subject: Pricing question
To: Sam Seller <{SAM}>


Hi Sam, what would 40 seats cost?
"""
)

OUTLOOK_INLINE_FORWARD = crlf(
    f"""From: Sam Seller <{SAM}>
To: crm+TOKEN@example.com
Subject: FW: Pricing question
Date: Thu, 03 Dec 2026 08:00:00 +0000
Message-ID: <outlook-fwd-1@seller.example>
Content-Type: text/plain; charset="us-ascii"

-----Original Message-----
From: Eve Example [mailto:eve@prospect.example]
Sent: Wednesday, December 2, 2026 4:12 PM
To: Sam Seller
Subject: Pricing question

Hi Sam, what would 40 seats cost?
"""
)

ATTACHED_FORWARD = crlf(
    f"""From: Sam Seller <{SAM}>
To: crm+TOKEN@example.com
Subject: Fwd: Intro
Date: Thu, 03 Dec 2026 08:00:00 +0000
Message-ID: <apple-fwd-1@seller.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: text/plain; charset=utf-8

Forwarding this as an attachment.

--outer
Content-Type: message/rfc822
Content-Disposition: attachment; filename="Intro.eml"

From: Finn Prospect <finn@prospect.example>
To: Sam Seller <{SAM}>
Cc: Gina Prospect <gina@prospect.example>
Subject: Intro
Date: Tue, 01 Dec 2026 14:00:00 +0000
Message-ID: <original-intro@prospect.example>
Content-Type: text/plain; charset=utf-8

Hello Sam, Gina and I would like a demo.

--outer--
"""
)

HTML_ONLY = crlf(
    f"""From: Dana Buyer <{DANA}>
To: {SAM}
Subject: Our requirements
Date: Wed, 02 Dec 2026 09:15:00 +0000
Message-ID: <html-only@buyer.example>
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8

<html><head><style>p {{ color: red }}</style><script>alert('x')</script></head>
<body><p>We need <b>SSO</b> &amp; audit logs.</p><ul><li>SAML</li><li>SCIM</li></ul>
<p>&lt;script&gt; is just text here</p><img src="https://tracker.example/p.gif"></body></html>
"""
)

ISO_8859_1 = (
    f"From: =?iso-8859-1?q?J=FCrgen_M=FCller?= <jurgen@kunde.example>\r\n"
    f"To: {SAM}\r\n"
    "Subject: =?iso-8859-1?q?Gr=FC=DFe_aus_M=FCnchen?=\r\n"
    "Date: Wed, 02 Dec 2026 09:15:00 +0100\r\n"
    "Message-ID: <latin1@kunde.example>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=iso-8859-1\r\n"
    "Content-Transfer-Encoding: 8bit\r\n\r\n"
).encode() + "Schöne Grüße, Jürgen\r\n".encode("iso-8859-1")

SHIFT_JIS = (
    f"From: =?shift_jis?b?{base64.b64encode('田中'.encode('shift_jis')).decode()}?= "
    "<tanaka@kaisha.example>\r\n"
    f"To: {SAM}\r\n"
    f"Subject: =?shift_jis?b?{base64.b64encode('お見積もり'.encode('shift_jis')).decode()}?=\r\n"
    "Date: Wed, 02 Dec 2026 09:15:00 +0900\r\n"
    "Message-ID: <sjis@kaisha.example>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=Shift_JIS\r\n"
    "Content-Transfer-Encoding: 8bit\r\n\r\n"
).encode() + "よろしくお願いします。\r\n".encode("shift_jis")

UNKNOWN_CHARSET = (
    (
        f"From: Dana Buyer <{DANA}>\r\nTo: {SAM}\r\nSubject: Odd charset\r\n"
        "Date: Wed, 02 Dec 2026 09:15:00 +0000\r\nMessage-ID: <odd@buyer.example>\r\n"
        "Content-Type: text/plain; charset=x-no-such-charset\r\n\r\n"
    ).encode()
    + "Caf\xe9 and na\xefve".encode("latin-1")
    + b"\r\n"
)

MALFORMED = (
    b"From: Dana Buyer <dana@buyer.example\r\n"
    b"To: , ,sam@seller.example,, <<broken@>>\r\n"
    b"Subject: =?utf-8?q?unterminated\r\n"
    b"Date: not a date at all\r\n"
    b'Content-Type: multipart/mixed; boundary="never-closed"\r\n\r\n'
    b"--never-closed\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\n"
    b"SGVsbG8gU2Ft!!!not base64\r\n"
)

AUTO_REPLY = crlf(
    f"""From: Dana Buyer <{DANA}>
To: {SAM}
Subject: Automatic reply: Your rollout plan
Date: Wed, 02 Dec 2026 09:15:00 +0000
Message-ID: <ooo@buyer.example>
Auto-Submitted: auto-replied
X-Auto-Response-Suppress: All
Content-Type: text/plain; charset=utf-8

I am out of the office until Monday.
"""
)

ABWESENHEIT = crlf(
    f"""From: Jurgen <jurgen@kunde.example>
To: {SAM}
Subject: Abwesenheitsnotiz: Angebot
Date: Wed, 02 Dec 2026 09:15:00 +0000
Message-ID: <abw@kunde.example>
Content-Type: text/plain; charset=utf-8

Ich bin bis Montag nicht im Büro.
"""
)

BOUNCE = crlf(
    f"""From: Mail Delivery System <MAILER-DAEMON@mx.seller.example>
To: {SAM}
Subject: Undelivered Mail Returned to Sender
Date: Wed, 02 Dec 2026 09:15:00 +0000
Message-ID: <bounce-1@mx.seller.example>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b1"

--b1
Content-Type: text/plain; charset=us-ascii

I'm sorry to have to inform you that your message could not be delivered.

--b1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.seller.example

Final-Recipient: rfc822; {DANA}
Original-Recipient: rfc822;{DANA}
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 User unknown

--b1
Content-Type: text/rfc822-headers

From: Sam Seller <{SAM}>
To: Dana Buyer <{DANA}>
Subject: Your rollout plan

--b1--
"""
)


def huge_with_attachment(megabytes: int = 30) -> bytes:
    """A message of about `megabytes` MB: a long text body and a big PDF attachment."""
    attachment = base64.encodebytes(b"%PDF-1.4 " + b"\0" * (megabytes * 1024 * 1024 * 3 // 4))
    body = ("All the details are in the attached proposal. " * 5000).encode()
    return (
        crlf(
            f"""From: Sam Seller <{SAM}>
To: Dana Buyer <{DANA}>
Bcc: crm+TOKEN@example.com
Subject: Proposal
Date: Tue, 01 Dec 2026 10:00:00 +0000
Message-ID: <huge@seller.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="big"

--big
Content-Type: text/plain; charset=utf-8

"""
        )
        + body
        + crlf(
            """
--big
Content-Type: application/pdf; name="Proposal.pdf"
Content-Disposition: attachment; filename="Proposal.pdf"
Content-Transfer-Encoding: base64

"""
        )
        + attachment
        + b"\r\n--big--\r\n"
    )
