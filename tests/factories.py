from __future__ import annotations

import factory
from django.conf import settings
from django.contrib.auth.models import Group

from accounts.models import User

TEST_PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"rep{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    time_zone = "Europe/London"
    password = factory.django.Password(TEST_PASSWORD)


class ManagerFactory(UserFactory):
    is_staff = True

    @factory.post_generation
    def sales_manager(self, create, extracted, **kwargs):
        if create:
            group, _ = Group.objects.get_or_create(name=settings.SALES_MANAGERS_GROUP)
            self.groups.add(group)
