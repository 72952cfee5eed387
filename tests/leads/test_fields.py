from __future__ import annotations

import pytest
from django.db import models

from leads.fields import own_field
from leads.models import Company, Lead


def test_a_column_of_the_model_is_its_field():
    field = own_field(Lead, "company")
    assert isinstance(field, models.ForeignKey)
    assert field.attname == "company_id"
    assert field.related_model is Company
    assert own_field(Lead, "email") is Lead._meta.get_field("email")


def test_a_reverse_relation_is_refused():
    # Company.leads is the reverse side of Lead.company: not a field of Company's own.
    with pytest.raises(TypeError, match=r"leads\.Company\.leads is not a field"):
        own_field(Company, "leads")
