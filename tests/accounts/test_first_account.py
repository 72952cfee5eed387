"""The first-run page: a database without users offers "Create the first account"."""

from __future__ import annotations

import re
import subprocess
import threading
import time

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import services
from accounts.models import User
from tests.factories import UserFactory

GOOD = {
    "first_name": "Ada",
    "last_name": "Owner",
    "username": "ada",
    "email": "ada@example.org",
    "time_zone": "Europe/Berlin",
    "password1": "a long enough passphrase 7",
    "password2": "a long enough passphrase 7",
}


@pytest.mark.django_db
def test_any_page_sends_a_fresh_database_to_the_first_account_page(client):
    response = client.get("/leads/", follow=True)

    assert [url for url, _ in response.redirect_chain] == [
        "/accounts/login/?next=/leads/",
        "/accounts/first-account/",
    ]
    assert response.status_code == 200
    assert b"Create the first account" in response.content


@pytest.mark.django_db
def test_the_first_account_is_a_manager_and_is_logged_in(client):
    response = client.post("/accounts/first-account/", GOOD)

    assert response.status_code == 302
    assert response["Location"] == "/"
    user = User.objects.get()
    assert user.username == "ada"
    assert user.is_manager
    assert user.is_staff
    assert not user.is_superuser
    assert user.time_zone == "Europe/Berlin"
    assert user.check_password(GOOD["password1"])
    today = client.get("/")
    assert today.status_code == 200
    assert b"you are a sales manager" in today.content


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"password2": "something else entirely"}, "password2", "didn’t match"),
        # The rules are about the password: under it, not under "again" (a new-user trial).
        ({"password1": "short", "password2": "short"}, "password1", "at least 12"),
        ({"password1": "password1234", "password2": "password1234"}, "password1", "too common"),
        ({"email": ""}, "email", "required"),
        ({"username": "has space"}, "username", "valid username"),
    ],
)
def test_bad_input_is_shown_next_to_the_field_and_nothing_is_created(
    client, change, field, message
):
    response = client.post("/accounts/first-account/", {**GOOD, **change})

    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors[field])
    assert message in errors
    assert response.context["form"]["username"].value() == GOOD["username"] or field == "username"
    # The first field with an error has the focus, not the username at the top.
    assert response.context["form"].fields[field].widget.attrs.get("autofocus") is True
    assert not User.objects.exists()


@pytest.mark.django_db
def test_the_page_is_gone_once_anyone_exists(client):
    UserFactory()

    assert client.get("/accounts/first-account/").status_code == 404
    assert client.post("/accounts/first-account/", GOOD).status_code == 404
    assert client.get("/accounts/login/").status_code == 200
    assert not User.objects.filter(username="ada").exists()
    assert client.get("/leads/")["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_a_logged_in_page_asks_no_extra_query_for_the_first_run_check(client):
    """Only anonymous requests look for users; a logged-in page costs what it cost before."""
    client.force_login(UserFactory())
    with CaptureQueriesContext(connection) as captured:
        client.get("/settings/")
    anyone = [query["sql"] for query in captured if 'FROM "accounts_user" LIMIT 1' in query["sql"]]
    assert anyone == []


@pytest.mark.django_db(transaction=True)
def test_two_people_submitting_at_once_make_one_first_account(monkeypatch):
    """The second waits for the first's lock, then finds a user and is turned away."""
    entered = threading.Event()

    def hold_the_window_open() -> None:
        entered.set()
        time.sleep(0.5)

    monkeypatch.setattr(services, "_after_first_account_check", hold_the_window_open)
    outcomes: list[str] = []

    def create(name: str) -> None:
        try:
            services.first_account_create(
                username=name, password="a long enough passphrase 7", email=f"{name}@x.org"
            )
            outcomes.append("created")
        except services.FirstAccountTaken:
            outcomes.append("taken")
        finally:
            connection.close()

    first = threading.Thread(target=create, args=("first",))
    first.start()
    assert entered.wait(5)
    second = threading.Thread(target=create, args=("second",))
    second.start()
    first.join(10)
    second.join(10)

    assert sorted(outcomes) == ["created", "taken"]
    assert list(User.objects.values_list("username", flat=True)) == ["first"]


@pytest.mark.parametrize(("demo", "seeded"), [(None, True), ("1", True), ("0", False)])
def test_make_run_demo_0_skips_the_demo(demo, seeded):
    """`make run DEMO=0` leaves the database empty for the first-run page; the seed line that
    `make run` would run is run here, with the seeding itself replaced by an echo."""
    args = ["make", "-n", "run", *([f"DEMO={demo}"] if demo else [])]
    plan = subprocess.run(  # noqa: S603 - a fixed command line
        args, cwd=settings.BASE_DIR, capture_output=True, text=True, check=True
    ).stdout
    [line] = [line for line in plan.splitlines() if "seed_demo" in line]
    line = re.sub(r"\S*python manage.py seed_demo", "echo SEEDED", line)

    ran = subprocess.run(["sh", "-c", line], capture_output=True, text=True, check=True)  # noqa: S603,S607

    assert ("SEEDED" in ran.stdout) is seeded
