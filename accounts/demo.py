"""Demo accounts and sample data for `make run` on an empty database."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

from accounts import services
from accounts.models import User

DEMO_PASSWORD = "leadhunter-demo"  # noqa: S105 - printed to the user by `make run`


@dataclass(frozen=True)
class DemoLogin:
    role: str
    username: str
    password: str


@dataclass
class DemoResult:
    logins: list[DemoLogin] = field(default_factory=list)


@transaction.atomic
def load_demo_if_empty() -> DemoResult | None:
    """Create the demo team and its data; do nothing when any user exists."""
    if User.objects.exists():
        return None
    result = DemoResult()
    services.user_create(
        username="sam",
        password=DEMO_PASSWORD,
        email="sam@example.com",
        first_name="Sam",
        last_name="Rivera",
        time_zone="Europe/London",
    )
    result.logins.append(DemoLogin("salesperson", "sam", DEMO_PASSWORD))
    services.user_create(
        username="morgan",
        password=DEMO_PASSWORD,
        email="morgan@example.com",
        first_name="Morgan",
        last_name="Lee",
        time_zone="Europe/London",
        is_manager=True,
    )
    result.logins.append(DemoLogin("manager", "morgan", DEMO_PASSWORD))
    return result
