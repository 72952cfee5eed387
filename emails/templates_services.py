"""Writes for email templates: the defaults given once, and a salesperson's own changes."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import User
from emails.templates_defaults import DEFAULT_TEMPLATES
from emails.templates_merge import unknown_fields, unknown_fields_message
from emails.templates_models import EmailTemplate, EmailTemplateDefaults


def email_templates_give_defaults(*, owner: User) -> bool:
    """Give `owner` the default templates unless they already had them; True if given now.

    The one-to-one row decides, so two first visits at once give them once; a default the
    salesperson deleted is not given again. A default whose name they already use is skipped.
    """
    if EmailTemplateDefaults.objects.filter(owner=owner).exists():
        return False
    try:
        with transaction.atomic():
            EmailTemplateDefaults.objects.create(owner=owner)
            taken = set(EmailTemplate.objects.filter(owner=owner).values_list("name", flat=True))
            EmailTemplate.objects.bulk_create(
                EmailTemplate(
                    owner=owner,
                    name=default.name,
                    subject=default.subject,
                    body=default.body,
                    default_key=default.key,
                )
                for default in DEFAULT_TEMPLATES
                if default.name not in taken
            )
    except IntegrityError:
        return False
    return True


def _checked(template: EmailTemplate) -> EmailTemplate:
    errors = {}
    for field in ("subject", "body"):
        unknown = unknown_fields(getattr(template, field))
        if unknown:
            errors[field] = unknown_fields_message(unknown)
    if errors:
        raise ValidationError(errors)
    template.full_clean()
    return template


@transaction.atomic
def email_template_create(*, owner: User, name: str, subject: str, body: str) -> EmailTemplate:
    """A new template of `owner`'s; its merge fields must all be known."""
    template = _checked(EmailTemplate(owner=owner, name=name, subject=subject, body=body))
    template.save()
    return template


@transaction.atomic
def email_template_update(
    *, template: EmailTemplate, name: str, subject: str, body: str
) -> EmailTemplate:
    template.name, template.subject, template.body = name, subject, body
    _checked(template).save()
    return template


@transaction.atomic
def email_template_delete(*, template: EmailTemplate) -> None:
    template.delete()
