"""leadhunter.sessions: the session read as Django's database store reads it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.utils import timezone

from leadhunter.sessions import SessionStore


def _saved(data: dict) -> str:
    store = SessionStore()
    store.update(data)
    store.create()
    return store.session_key


def _both(key: str | None) -> tuple[tuple[dict, str | None], tuple[dict, str | None]]:
    ours, djangos = SessionStore(key), db.SessionStore(key)
    return (ours.load(), ours._session_key), (djangos.load(), djangos._session_key)


@pytest.mark.django_db
def test_a_live_session_reads_what_djangos_store_reads():
    key = _saved({"_auth_user_id": "12", "cart": ["a", 1, {"b": None}], "naïve": "ünïcode"})

    ours, djangos = _both(key)

    assert ours == djangos
    assert ours[0]["cart"] == ["a", 1, {"b": None}]
    assert ours[1] == key


@pytest.mark.django_db
@pytest.mark.parametrize("case", ["expired", "unknown", "no key", "tampered"])
def test_a_session_that_cannot_be_used_is_empty_and_its_key_forgotten_as_django_does(case):
    key = _saved({"_auth_user_id": "12"})
    if case == "expired":
        Session.objects.filter(pk=key).update(expire_date=timezone.now() - timedelta(seconds=1))
    elif case == "unknown":
        key = "x" * 32
    elif case == "no key":
        key = None
    else:
        Session.objects.filter(pk=key).update(session_data="eyJhIjoxfQ:tampered:signature")

    ours, djangos = _both(key)

    assert ours == djangos
    assert ours[0] == {}
    assert (ours[1] is None) == (case != "tampered")
