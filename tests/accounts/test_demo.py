from __future__ import annotations

import pytest
from django.core.management import call_command

from accounts.models import User


@pytest.mark.django_db
def test_seed_demo_creates_a_salesperson_and_a_manager_once(capsys):
    call_command("seed_demo")
    first_output = capsys.readouterr().out
    call_command("seed_demo")
    second_output = capsys.readouterr().out

    assert "username: sam" in first_output
    assert "username: morgan" in first_output
    assert User.objects.get(username="morgan").is_manager
    assert not User.objects.get(username="sam").is_manager
    assert User.objects.count() == 2
    assert "already has users" in second_output
