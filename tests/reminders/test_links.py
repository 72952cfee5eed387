from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import signing

from reminders import links
from reminders.links import LinkExpired, LinkInvalid, make_link, make_token, read_link
from tests.reminders.conftest import MONDAY_9_LONDON, SITE_URL

pytestmark = pytest.mark.django_db


def test_a_link_is_absolute_and_reads_back_as_what_was_signed(salesperson):
    url = make_link(salesperson, links.FOLLOW_UP_DONE, 42)

    assert url.startswith(f"{SITE_URL}/e/")
    token = url.removeprefix(f"{SITE_URL}/e/").removesuffix("/")
    link = read_link(token)
    assert (link.user_id, link.action, link.object_id) == (salesperson.pk, "follow_up_done", 42)
    assert link.nonce


def test_every_link_has_its_own_nonce(salesperson):
    first = read_link(make_token(salesperson, links.REFERRAL_ASKED, 1))
    second = read_link(make_token(salesperson, links.REFERRAL_ASKED, 1))

    assert first.nonce != second.nonce


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),  # signature
        lambda token: "x" + token,  # payload
        lambda token: token[: len(token) // 2],  # cut short by a mail client
        lambda token: "",
        lambda token: "not-a-token",
    ],
)
def test_a_tampered_token_is_invalid(salesperson, tamper):
    token = make_token(salesperson, links.FOLLOW_UP_SNOOZE, 7)

    with pytest.raises(LinkInvalid):
        read_link(tamper(token))


def test_a_token_signed_for_another_purpose_is_invalid(salesperson):
    payload = {"u": salesperson.pk, "a": "follow_up_done", "o": 1, "n": "abc"}

    with pytest.raises(LinkInvalid):
        read_link(signing.dumps(payload))  # default salt, as a session would sign
    with pytest.raises(LinkInvalid):
        read_link(signing.dumps({**payload, "a": "delete_everything"}, salt=links.SALT))


@pytest.mark.parametrize(
    ("action", "lifetime"),
    [(links.REFERRAL_ASKED, timedelta(days=14)), (links.FOLLOW_UP_DONE, timedelta(days=3))],
)
def test_links_expire_after_their_actions_lifetime(salesperson, clock, action, lifetime):
    clock(MONDAY_9_LONDON)
    token = make_token(salesperson, action, 1)

    clock(MONDAY_9_LONDON + lifetime - timedelta(minutes=1))
    assert read_link(token).action == action
    clock(MONDAY_9_LONDON + lifetime + timedelta(minutes=1))
    with pytest.raises(LinkExpired):
        read_link(token)


def test_a_caller_may_ask_for_a_shorter_lifetime(salesperson, clock):
    clock(MONDAY_9_LONDON)
    token = make_token(salesperson, links.REFERRAL_ASKED, 1)
    clock(MONDAY_9_LONDON + timedelta(hours=2))

    with pytest.raises(LinkExpired):
        read_link(token, max_age=timedelta(hours=1))


def test_unknown_actions_cannot_be_signed(salesperson):
    with pytest.raises(ValueError, match="Unknown email-link action"):
        make_token(salesperson, "delete_everything", 1)


def test_a_signed_payload_of_the_wrong_shape_is_invalid():
    for payload in (["u", 1], {"u": 1, "a": "follow_up_done", "o": "x", "n": "n"}, {"u": 1}):
        with pytest.raises(LinkInvalid):
            read_link(signing.dumps(payload, salt=links.SALT))
