"""accounts.backends.UserBackend: the logged-in user carries the manager flag."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.backends import UserBackend
from accounts.models import User
from tests.factories import ManagerFactory, UserFactory


@pytest.fixture
def everyone(db):
    other_group = Group.objects.create(name="Marketing")
    in_another_group = UserFactory(username="pat")
    in_another_group.groups.add(other_group)
    return {
        "salesperson": UserFactory(username="sam"),
        "manager": ManagerFactory(username="morgan"),
        "superuser": UserFactory(username="root", is_superuser=True, is_staff=True),
        "in another group": in_another_group,
    }


@pytest.mark.parametrize(
    ("who", "manager"),
    [("salesperson", False), ("manager", True), ("superuser", True), ("in another group", False)],
)
def test_the_logged_in_user_knows_whether_they_manage_without_a_query_more(
    everyone, who, manager, django_assert_num_queries
):
    with django_assert_num_queries(1):
        user = UserBackend().get_user(everyone[who].pk)
        flag = user.is_manager

    assert flag is manager
    assert flag is User.objects.get(pk=user.pk).is_manager  # the property's own rule


def test_a_manager_moved_out_of_the_group_is_a_salesperson_on_the_next_request(everyone):
    manager = everyone["manager"]
    manager.groups.clear()

    assert UserBackend().get_user(manager.pk).is_manager is False


def test_an_inactive_or_unknown_user_is_nobody(everyone):
    User.objects.filter(pk=everyone["manager"].pk).update(is_active=False)

    assert UserBackend().get_user(everyone["manager"].pk) is None
    assert UserBackend().get_user(10**9) is None


def test_a_manager_logged_in_through_the_form_sees_the_team(client, everyone):
    manager = everyone["manager"]
    manager.set_password("a long enough password")
    manager.save()

    client.post(reverse("login"), {"username": "morgan", "password": "a long enough password"})
    page = client.get(reverse("lead-list"))

    assert page.wsgi_request.user == manager
    assert page.context["is_manager"] is True
    assert 'name="owner"' in page.content.decode()


def test_the_user_is_every_column_that_djangos_own_backend_reads(everyone):
    for user in everyone.values():
        ours = UserBackend().get_user(user.pk)
        djangos = ModelBackend().get_user(user.pk)

        assert {
            field.attname: getattr(ours, field.attname) for field in User._meta.concrete_fields
        } == {
            field.attname: getattr(djangos, field.attname) for field in User._meta.concrete_fields
        }
        assert ours.get_session_auth_hash() == djangos.get_session_auth_hash()


def test_an_id_that_is_no_number_is_nobody(everyone):
    assert UserBackend().get_user("12; DROP TABLE accounts_user") is None


def test_the_async_look_up_carries_the_flag_too(everyone):
    user = async_to_sync(UserBackend().aget_user)(everyone["manager"].pk)

    assert user == everyone["manager"]
    assert user.__dict__["is_manager"] is True  # read with the user, not by the property
