"""Every admin of rows that only services write denies the hand edits it must deny."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import RequestFactory

from accounts.admin_bases import RecordAdmin, ServiceWrittenAdmin
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def service_written_admins() -> list[admin.ModelAdmin]:
    return [
        model_admin
        for model_admin in admin.site._registry.values()
        if isinstance(model_admin, ServiceWrittenAdmin)
    ]


def request_of(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def test_the_bases_cover_the_admins_that_need_them():
    names = {type(model_admin).__name__ for model_admin in service_written_admins()}

    assert {
        "ActivityAdmin",
        "FollowUpAdmin",
        "ReminderAdmin",
        "EmailLinkUseAdmin",
        "HandRaiseAdmin",
        "BookingAdmin",
        "AuditEventAdmin",
    } <= names


def test_nobody_adds_or_changes_a_service_written_row_by_hand():
    superuser = request_of(UserFactory(is_superuser=True, is_staff=True))

    for model_admin in service_written_admins():
        assert not model_admin.has_add_permission(superuser), model_admin
        assert not model_admin.has_change_permission(superuser), model_admin


def test_only_rows_outside_an_outbox_or_a_record_can_be_deleted():
    superuser = request_of(UserFactory(is_superuser=True, is_staff=True))
    deletable = {
        type(model_admin).__name__
        for model_admin in service_written_admins()
        if model_admin.has_delete_permission(superuser)
    }

    assert "ActivityAdmin" in deletable
    assert not deletable & {"ReminderAdmin", "HandRaiseAdmin", "BookingAdmin", "AuditEventAdmin"}


def test_a_record_is_readable_by_a_staff_manager_and_nobody_else(manager):
    manager.is_staff = True
    manager.save()
    salesperson_on_staff = UserFactory(is_staff=True)
    records = [m for m in service_written_admins() if isinstance(m, RecordAdmin)]

    assert records
    for model_admin in records:
        assert model_admin.has_module_permission(request_of(manager))
        assert model_admin.has_view_permission(request_of(manager))
        assert not model_admin.has_view_permission(request_of(salesperson_on_staff))
