from __future__ import annotations

import factory
from django.conf import settings
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.models import User
from leads.models import furthest_stage

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


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "leads.Company"

    owner = factory.SubFactory(UserFactory)
    name = factory.Faker("company")
    domain = factory.Sequence(lambda n: f"company{n}.example.com")
    industry = "Software"
    employee_count = 120
    country = "GB"


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "leads.Lead"

    owner = factory.SubFactory(UserFactory)
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"lead{n}@example.org")
    title = "Head of Sales"
    stage = "new"
    source = "own_network"
    stage_changed_at = factory.LazyFunction(timezone.now)
    # As lead_create keeps it: the stage a lead starts in is the furthest it has been.
    furthest_stage = factory.LazyAttribute(lambda lead: furthest_stage(lead.stage))
    company = factory.SubFactory(CompanyFactory, owner=factory.SelfAttribute("..owner"))


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "leads.Activity"

    lead = factory.SubFactory(LeadFactory)
    user = factory.SelfAttribute("lead.owner")
    kind = "call"
    direction = "outbound"
    occurred_at = factory.LazyFunction(timezone.now)


class FollowUpFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "leads.FollowUp"
        skip_postgeneration_save = True

    lead = factory.SubFactory(LeadFactory)
    kind = "follow_up"
    due_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def keep_lead_in_step(self, create, extracted, **kwargs):
        """A pending follow-up sets its lead's next_follow_up_at, as the services keep it (Today
        reads it); on the test's lead object too, so a later lead.save() keeps it."""
        if create and self.done_at is None:
            type(self.lead).objects.filter(pk=self.lead_id).update(next_follow_up_at=self.due_at)
            self.lead.next_follow_up_at = self.due_at


class ReferralSourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "referrals.ReferralSource"

    owner = factory.SubFactory(UserFactory)
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"referrer{n}@example.net")
    strength = 3
    next_ask_at = factory.LazyFunction(timezone.now)


class ICPFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "icp.ICP"

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"ICP {n}")
    is_active = True


class CriterionFactory(factory.django.DjangoModelFactory):
    """Industry equals Software, weight 10, unless told otherwise."""

    class Meta:
        model = "icp.Criterion"

    icp = factory.SubFactory(ICPFactory)
    field = "industry"
    operator = "equals"
    value = "Software"
    weight = 10
    required = False
