"""The REST API's emails, read-only: GET /api/v1/emails/, /api/v1/emails/{id}/ and
/api/v1/leads/{id}/emails/. Emails sit above api in the app layers, so they bring their
endpoints (on api's base viewset, token auth and errors) rather than api importing them."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, serializers
from rest_framework.response import Response

from api.views import ApiViewSet, AuthenticatedRequest
from emails.models import Email
from emails.selectors import emails_visible_to
from leads.selectors import leads_visible_to

MAX_ID = 2**63 - 1


class EmailSerializer(serializers.ModelSerializer):
    class Meta:
        model = Email
        fields = [
            "id",
            "lead",
            "owner",
            "activity",
            "message_id",
            "thread_key",
            "direction",
            "source",
            "from_address",
            "to_addresses",
            "cc_addresses",
            "subject",
            "body_text",
            "body_truncated",
            "attachment_names",
            "sent_at",
            "is_auto_reply",
        ]
        read_only_fields = fields


class EmailFilterSerializer(serializers.Serializer):
    lead = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="Only this lead's emails."
    )
    thread_key = serializers.CharField(
        required=False, max_length=998, help_text="Only this conversation's emails."
    )


@extend_schema_view(
    list=extend_schema(
        summary="List emails",
        description="Emails sent to and received from the leads you see (sent from LeadHunter, "
        "captured or read from a mailbox), the last logged first. Read-only.",
        parameters=[EmailFilterSerializer],
    ),
    retrieve=extend_schema(summary="Get an email"),
)
class EmailViewSet(ApiViewSet[Email]):
    serializer_class = EmailSerializer
    noun = "email"
    http_method_names = ["get", "head", "options"]

    def get_queryset(self) -> QuerySet[Email]:
        return emails_visible_to(self.request.user)

    def list(self, request: AuthenticatedRequest) -> Response:
        filters = self.query(EmailFilterSerializer)
        emails = self.get_queryset()
        if "lead" in filters:
            emails = emails.filter(lead_id=filters["lead"])
        if "thread_key" in filters:
            emails = emails.filter(thread_key=filters["thread_key"])
        return self.page_of(emails)


@extend_schema_view(
    list=extend_schema(
        summary="List a lead's emails",
        description="The emails to and from one lead, the last logged first. Another owner's lead "
        "answers 404, like a missing one.",
        parameters=[
            OpenApiParameter("id", int, OpenApiParameter.PATH, description="The lead's id.")
        ],
    ),
)
class LeadEmailViewSet(ApiViewSet[Email]):
    serializer_class = EmailSerializer
    noun = "email"
    http_method_names = ["get", "head", "options"]

    def get_queryset(self) -> QuerySet[Email]:
        return emails_visible_to(self.request.user)

    def list(self, request: AuthenticatedRequest, pk: int) -> Response:
        if not leads_visible_to(request.user).filter(pk=pk).exists():
            raise exceptions.NotFound(f"No lead with id {pk}.")
        return self.page_of(Email.objects.filter(lead_id=pk))
