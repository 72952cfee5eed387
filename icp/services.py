"""Writes to ICPs and their criteria: the only way the app changes them.

Every service validates with `full_clean()` before writing (so a bad criterion is refused with
a field-keyed ValidationError and nothing is written) and asks for the affected leads to be
rescored once the transaction commits.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import User
from icp.models import ICP, Criterion
from icp.rescoring import request_icp_rescore, request_owner_rescore

ICP_EDITABLE_FIELDS = frozenset({"name", "description", "is_active"})
# The description is for people; only these change what leads score.
ICP_SCORED_FIELDS = frozenset({"name", "is_active"})
CRITERION_EDITABLE_FIELDS = frozenset({"field", "operator", "value", "weight", "required"})


@transaction.atomic
def icp_create(*, owner: User, name: str, description: str = "", is_active: bool = True) -> ICP:
    """Create an ICP for its owner; the owner's leads are rescored if it is active."""
    icp = ICP(owner=owner, name=name.strip(), description=description, is_active=is_active)
    icp.full_clean()
    icp.save()
    if icp.is_active:
        request_icp_rescore(icp.pk)
    return icp


@transaction.atomic
def icp_update(*, icp: ICP, **fields: object) -> ICP:
    """Change an ICP's name, description or active flag; rescore when a scored field changed."""
    _refuse_unknown("icp_update", fields, ICP_EDITABLE_FIELDS)
    if isinstance(name := fields.get("name"), str):
        fields["name"] = name.strip()
    changed = _assign_validated(icp, fields)
    if changed:
        icp.save(update_fields=[*changed, "updated_at"])
    if ICP_SCORED_FIELDS & set(changed):
        request_icp_rescore(icp.pk)
    return icp


@transaction.atomic
def icp_delete(*, icp: ICP) -> None:
    """Delete an ICP and its criteria; its owner's leads are rescored without it."""
    owner_id = icp.owner_id
    icp.delete()
    request_owner_rescore(owner_id)


@transaction.atomic
def criterion_create(
    *,
    icp: ICP,
    field: str,
    operator: str,
    value: object,
    weight: int,
    required: bool = False,
) -> Criterion:
    """Add a criterion to an ICP; refused when the operator does not fit the field,
    a range has min > max, or the weight is not positive."""
    criterion = Criterion(
        icp=icp, field=field, operator=operator, value=value, weight=weight, required=required
    )
    criterion.full_clean()
    criterion.save()
    request_icp_rescore(icp.pk)
    return criterion


@transaction.atomic
def criterion_update(*, criterion: Criterion, **fields: object) -> Criterion:
    """Change a criterion; validated like a new one, and the instance is left untouched
    when it is refused."""
    _refuse_unknown("criterion_update", fields, CRITERION_EDITABLE_FIELDS)
    changed = _assign_validated(criterion, fields)
    if changed:
        criterion.save(update_fields=changed)
        request_icp_rescore(criterion.icp_id)
    return criterion


@transaction.atomic
def criterion_delete(*, criterion: Criterion) -> None:
    """Remove a criterion from its ICP."""
    icp_id = criterion.icp_id
    criterion.delete()
    request_icp_rescore(icp_id)


def _refuse_unknown(service: str, fields: dict, allowed: frozenset[str]) -> None:
    unknown = fields.keys() - allowed
    if unknown:
        raise TypeError(f"{service}() got fields it does not accept: {sorted(unknown)}")


def _assign_validated(instance: ICP | Criterion, fields: dict) -> list[str]:
    """Set the fields that differ and full_clean(); on failure restore the old values."""
    previous = {name: getattr(instance, name) for name in fields}
    changed = [name for name, value in fields.items() if previous[name] != value]
    for name in changed:
        setattr(instance, name, fields[name])
    try:
        instance.full_clean()
    except ValidationError:
        for name, value in previous.items():
            setattr(instance, name, value)
        raise
    return changed


@transaction.atomic
def criterion_create_in_new_icp(
    *, owner: User, icp_name: str, field: str, operator: str, value: object, weight: int
) -> Criterion:
    """Start an active ICP with one criterion (an accepted suggestion when the salesperson has
    no ICP to add it to): both or neither are saved."""
    icp = icp_create(owner=owner, name=icp_name)
    return criterion_create(icp=icp, field=field, operator=operator, value=value, weight=weight)
