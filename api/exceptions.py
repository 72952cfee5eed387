"""Every API error as JSON: {"error": "<message>", "fields": {"<field>": ["<message>", …]}}.

The services raise Django's ValidationError; DRF raises its own exceptions. Both become a 4xx
with one readable message and, for invalid input, the messages by field.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler, set_rollback

logger = logging.getLogger(__name__)

NON_FIELD_KEYS = {NON_FIELD_ERRORS, "non_field_errors"}


def api_exception_handler(exc: Exception, context: Mapping) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(django_error_detail(exc))
    elif isinstance(exc, IntegrityError):
        # The services check constraints first; this is a concurrent write winning the race.
        logger.info("API write lost a race: %s", exc)
        set_rollback()
        return Response(
            {
                "error": "This conflicts with a change made at the same time; try again.",
                "fields": {},
            },
            status=status.HTTP_409_CONFLICT,
        )
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields, general = _flatten(exc.detail)
        response.data = {"error": _summary(fields, general), "fields": fields}
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else ""
        response.data = {"error": str(detail) or "Request failed.", "fields": {}}
    return response


def django_error_detail(error: DjangoValidationError) -> dict[str, list[str]]:
    """A service's ValidationError as DRF detail: messages by field, the rest non-field."""
    if hasattr(error, "error_dict"):
        return {
            ("non_field_errors" if name in NON_FIELD_KEYS else name): messages
            for name, messages in error.message_dict.items()
        }
    return {"non_field_errors": list(error.messages)}


def _flatten(detail: object) -> tuple[dict[str, list[str]], list[str]]:
    """Nested serializer errors as flat dotted keys ("tags.2"); non-field errors apart."""
    fields: dict[str, list[str]] = {}
    general: list[str] = []
    for path, message in _messages(detail, ()):
        if path:
            fields.setdefault(".".join(path), []).append(message)
        else:
            general.append(message)
    return fields, general


def _messages(detail: object, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], str]]:
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            name = str(key)
            yield from _messages(value, path if name in NON_FIELD_KEYS else (*path, name))
    elif isinstance(detail, list | tuple):
        for index, value in enumerate(detail):
            if isinstance(value, Mapping | list | tuple):
                yield from _messages(value, (*path, str(index)))
            else:
                yield path, str(value)
    else:
        yield path, str(detail)


def _summary(fields: dict[str, list[str]], general: list[str]) -> str:
    if general:
        return " ".join(general)
    if not fields:
        return "Invalid input."
    name, messages = next(iter(fields.items()))
    summary = f"{name}: {messages[0]}" if messages else f"{name} is invalid."
    if len(fields) > 1:
        summary += f" (and {len(fields) - 1} more field{'s' if len(fields) > 2 else ''})"
    return summary
