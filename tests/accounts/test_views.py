from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts import services
from accounts.models import User

SETTINGS = {
    "time_zone": "America/New_York",
    "daily_touch_goal": "35",
    "reconnects_per_day": "12",
    "weekly_referral_email": "on",
}


@pytest.mark.django_db
def test_the_settings_page_shows_the_current_values(client_of, salesperson):
    response = client_of(salesperson).get(reverse("settings"))

    assert response.status_code == 200
    assert response.context["title"] == "Settings"
    page = response.content.decode()
    assert '<option value="Europe/London" selected>Europe/London</option>' in page
    assert '<optgroup label="Europe">' in page
    assert 'name="daily_touch_goal" value="20"' in page
    assert 'name="reconnects_per_day" value="10"' in page
    assert reverse("password_change") in page
    assert f'href="{reverse("settings")}"' in page  # the user menu links here


@pytest.mark.django_db
def test_saving_settings_redirects_with_a_message(client_of, salesperson):
    response = client_of(salesperson).post(reverse("settings"), SETTINGS, follow=True)

    assert response.redirect_chain == [(reverse("settings"), 302)]
    assert "Settings saved." in response.content.decode()
    salesperson.refresh_from_db()
    assert (
        salesperson.time_zone,
        salesperson.daily_touch_goal,
        salesperson.reconnects_per_day,
        salesperson.weekly_referral_email,
        salesperson.daily_digest_email,
    ) == ("America/New_York", 35, 12, True, False)


@pytest.mark.django_db
def test_unchecked_boxes_turn_emails_off(client_of, salesperson):
    client_of(salesperson).post(
        reverse("settings"),
        {"time_zone": "UTC", "daily_touch_goal": "20", "reconnects_per_day": "10"},
    )

    salesperson.refresh_from_db()
    assert not salesperson.weekly_referral_email
    assert not salesperson.daily_digest_email


@pytest.mark.django_db
def test_invalid_settings_are_shown_next_to_their_fields(client_of, salesperson):
    response = client_of(salesperson).post(
        reverse("settings"),
        {"time_zone": "Mars/Olympus_Mons", "daily_touch_goal": "0"},
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="id_time_zone_error">Select a valid choice.' in page
    assert 'id="id_daily_touch_goal_error">Ensure this value is greater than or equal to 1' in page
    salesperson.refresh_from_db()
    assert (salesperson.time_zone, salesperson.daily_touch_goal) == ("Europe/London", 20)


@pytest.mark.django_db
def test_settings_only_change_the_logged_in_user(client_of, salesperson, other_salesperson):
    client_of(salesperson).post(reverse("settings"), SETTINGS)

    other_salesperson.refresh_from_db()
    assert other_salesperson.time_zone == "Europe/London"


@pytest.mark.django_db
def test_the_service_validates_and_leaves_the_user_unchanged_on_error(salesperson):
    with pytest.raises(ValidationError) as error:
        services.user_update_settings(
            user=salesperson,
            time_zone="Europe/Paris",
            daily_touch_goal=900,
            weekly_referral_email=False,
            daily_digest_email=not salesperson.daily_digest_email,
        )

    assert "daily_touch_goal" in error.value.message_dict
    assert (salesperson.time_zone, salesperson.daily_touch_goal) == ("Europe/London", 20)
    assert User.objects.get(pk=salesperson.pk).daily_digest_email is salesperson.daily_digest_email


def test_anonymous_users_are_sent_to_log_in(client, db):
    response = client.get(reverse("settings"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- Lost reasons (offered in the lost-reason dialog) ----------------------------------------


@pytest.mark.django_db
def test_lost_reasons_are_edited_one_a_line(client_of, salesperson):
    page = client_of(salesperson).get(reverse("settings")).content.decode()
    assert "No budget\nChose a competitor\nNo decision / went quiet" in page

    client_of(salesperson).post(
        reverse("settings"),
        {
            **SETTINGS,
            "lost_reasons": "No budget\n\n  Built it   in-house \nno budget\r\nWrong timing",
        },
    )

    salesperson.refresh_from_db()
    # Blank lines and repeats (in any case) go; inner spaces are tidied.
    assert salesperson.lost_reasons == ["No budget", "Built it in-house", "Wrong timing"]


@pytest.mark.django_db
def test_a_lost_reason_too_long_for_the_dialog_is_refused_next_to_the_field(client_of, salesperson):
    response = client_of(salesperson).post(
        reverse("settings"), {**SETTINGS, "lost_reasons": "No budget\n" + "x" * 61}
    )

    assert 'id="id_lost_reasons_error">Keep each reason under 60 characters' in (
        response.content.decode()
    )
    salesperson.refresh_from_db()
    assert salesperson.lost_reasons[0] == "No budget"
    assert len(salesperson.lost_reasons) == 5


@pytest.mark.django_db
def test_the_lost_reason_dialog_offers_the_users_own_reasons(client_of, salesperson):
    salesperson.lost_reasons = ["Went with a spreadsheet", "Too small"]
    salesperson.save(update_fields=["lost_reasons"])

    page = client_of(salesperson).get(reverse("pipeline")).content.decode()

    dialog = page.split('<dialog id="lost-reason-dialog"', 1)[1].split("</dialog>", 1)[0]
    assert 'value="Went with a spreadsheet"> Went with a spreadsheet' in dialog
    assert 'value="Too small"> Too small' in dialog
    assert "No budget" not in dialog
