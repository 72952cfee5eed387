from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core import mail
from django.urls import reverse

from tests.factories import TEST_PASSWORD
from tests.waiting import wait_for

SECTION_URL_NAMES = ["today", "lead-list", "pipeline", "referral-list", "icp-list", "reports"]


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", [*SECTION_URL_NAMES, "password_change"])
def test_pages_redirect_anonymous_users_to_login(client, url_name):
    url = reverse(url_name)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


@pytest.mark.django_db
def test_htmx_requests_of_anonymous_users_get_401_with_a_redirect_header(client):
    response = client.get(reverse("lead-list"), headers={"HX-Request": "true"})

    assert response.status_code == 401
    assert response["HX-Redirect"].startswith(reverse("login"))


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", ["login", "password_reset", "healthz"])
def test_public_pages_do_not_need_login(client, salesperson, url_name):
    """(With an account: a database without any offers the first-run page instead.)"""
    assert client.get(reverse(url_name)).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url_name", "heading"),
    [
        ("login", "Log in"),
        ("password_reset", "Password reset"),
    ],
)
def test_each_login_page_names_itself_in_its_heading(client, salesperson, url_name, heading):
    """Found in a trial: the login page's heading was empty (Django's login view names no
    title, its other auth views do)."""
    page = client.get(reverse(url_name)).content.decode()

    assert f"<h1>{heading}</h1>" in page
    assert "<h1></h1>" not in page


@pytest.mark.django_db
def test_login_with_the_right_password_lands_on_today(client, salesperson):
    response = client.post(
        reverse("login"), {"username": "sam", "password": TEST_PASSWORD}, follow=True
    )

    assert response.redirect_chain[-1][0] == reverse("today")
    assert response.context["user"] == salesperson


@pytest.mark.django_db
def test_login_with_a_wrong_password_says_so(client, salesperson):
    response = client.post(reverse("login"), {"username": "sam", "password": "not-it"})

    assert response.status_code == 200
    assert "That username and password don" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_logout_needs_post_and_ends_the_session(client_of, salesperson):
    client = client_of(salesperson)

    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_password_reset_sends_an_email_with_a_working_link(client, salesperson, celery_worker):
    """The worker sends it (never the request), with a link that sets a new password."""
    response = client.post(reverse("password_reset"), {"email": "sam@example.com"})

    assert response.status_code == 302
    assert wait_for(lambda: len(mail.outbox) == 1)
    message = mail.outbox[0]
    assert message.to == ["sam@example.com"]
    assert message.subject == "Reset your LeadHunter password"
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+)", message.body).group(1)
    form_page = client.get(link, follow=True)
    assert form_page.context["validlink"] is True
    new_password = "a-much-longer-new-passphrase"
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )
    assert done.status_code == 302
    salesperson.refresh_from_db()
    assert salesperson.check_password(new_password)


@pytest.mark.django_db
def test_password_change_rejects_a_short_password(client_of, salesperson):
    client = client_of(salesperson)

    response = client.post(
        reverse("password_change"),
        {"old_password": TEST_PASSWORD, "new_password1": "short1", "new_password2": "short1"},
    )

    assert response.status_code == 200
    assert "at least 12 characters" in response.content.decode()


@pytest.mark.django_db
def test_sales_managers_group_exists_after_migrate():
    assert Group.objects.filter(name=settings.SALES_MANAGERS_GROUP).exists()


@pytest.mark.django_db
def test_navigation_shows_admin_to_managers_only(client_of, salesperson, manager):
    admin_link = f'href="{reverse("admin:index")}"'

    assert admin_link not in client_of(salesperson).get(reverse("today")).content.decode()
    assert admin_link in client_of(manager).get(reverse("today")).content.decode()


@pytest.mark.django_db
def test_base_page_loads_htmx_locally_and_sends_csrf_on_htmx_requests(client_of, salesperson):
    page = client_of(salesperson).get(reverse("today")).content.decode()

    assert "/static/django_htmx/htmx-2.min.js" in page
    assert 'hx-headers=\'{"X-CSRFToken":' in page
    assert "https://" not in re.sub(r'href="https://[^"]*"', "", page).split("<body")[0]
    assert 'aria-current="page"' in page
