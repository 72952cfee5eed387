"""A model's own field by name, typed as what it is.

django-stubs types `_meta.get_field(name)` as a field, a reverse relation or a generic foreign
key; the code that reads a column's attname, verbose name or choices asks for one of the model's
own fields, which `own_field` checks.
"""

from __future__ import annotations

from django.db import models


def own_field(model: type[models.Model], name: str) -> models.Field:
    """The field `name` declared on `model` (a column or a many-to-many), never a reverse
    relation; TypeError for one."""
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field):
        raise TypeError(f"{model._meta.label}.{name} is not a field of its own")
    return field
