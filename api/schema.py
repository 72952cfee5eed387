"""The OpenAPI description: the bearer-token scheme, and the error answers every operation
can give, so that clients (and schemathesis) know a 4xx body's shape."""

from __future__ import annotations

from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerFieldExtension,
)
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from api.serializers import LOGGABLE_ACTIVITY_KINDS, ErrorSerializer
from leads.models import ActivityKind

ERROR_DESCRIPTIONS = {
    "400": "Invalid input: `error` says what, `fields` says where.",
    "401": "No valid API token (or session).",
    "404": "No such record among those you may see.",
    "409": "A change made at the same time conflicts; try again.",
}


class ActivityKindSchema(OpenApiSerializerFieldExtension):
    """An activity's kind: any kind in an answer, every kind but a referral ask in a request
    (asks are recorded on their referral source), as the server takes them."""

    target_class = "api.serializers.ActivityKindField"

    def map_serializer_field(self, auto_schema, direction):
        kinds = LOGGABLE_ACTIVITY_KINDS if direction == "request" else ActivityKind.choices
        # Mapped as a plain choice field so the enum gets its component name (settings'
        # ENUM_NAME_OVERRIDES: ActivityKindEnum, LoggableActivityKindEnum).
        return auto_schema._map_serializer_field(
            serializers.ChoiceField(choices=kinds), direction, bypass_extensions=True
        )


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.ApiTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(
            header_name="Authorization",
            token_prefix="Bearer",  # noqa: S106 -- the auth scheme's name, not a secret
        )


class ApiAutoSchema(AutoSchema):
    """Adds the error answers to each operation: 401 always, 404 where the path names a
    record, 400 where the operation takes input (a body or query parameters), 409 on writes."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        codes = ["401"]
        if "{" in self.path:
            codes.append("404")
        if self.method in ("POST", "PATCH", "PUT") or self._takes_query_parameters():
            codes.append("400")
        if self.method in ("POST", "PATCH", "PUT", "DELETE"):
            codes.append("409")
        for code in codes:
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[code]),
                    code,
                    direction=direction,
                )
        return responses

    def _takes_query_parameters(self) -> bool:
        return any(parameter.get("in") == "query" for parameter in self._get_parameters())
