"""The REST API's endpoints (/api/v1/). Reads start from the apps' selectors, so a client sees
exactly what the pages show its user; each write is one call to a service. Another owner's
record answers 404, like a missing one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from typing import TYPE_CHECKING, Generic, TypeVar

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import Http404
from django.urls import Resolver404, resolve
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.decorators import action, api_view
from rest_framework.request import Request
from rest_framework.response import Response

from api import serializers as api
from api.exceptions import django_error_detail
from api.pagination import SoonestFirstCursorPagination
from icp import services as icp_services
from icp.models import ICP, Criterion
from icp.selectors import icps_visible_to
from leads import services as lead_services
from leads.models import Activity, FollowUp, Lead
from leads.selectors import (
    activities_visible_to,
    follow_ups_visible_to,
    leads_filtered,
    leads_visible_to,
)
from referrals import services as referral_services
from referrals.models import ReferralAsk, ReferralSource
from referrals.selectors import referral_asks_visible_to, referral_sources_visible_to

if TYPE_CHECKING:
    from accounts.models import User

WRITE_METHODS = ["get", "post", "patch", "delete", "head", "options"]
READ_AND_CREATE = ["get", "post", "head", "options"]


@contextmanager
def service_errors(**renamed: str) -> Iterator[None]:
    """A service's ValidationError as the API's 400, its field names as the API spells them."""
    try:
        yield
    except DjangoValidationError as error:
        detail = django_error_detail(error)
        raise exceptions.ValidationError(
            {renamed.get(name, name): messages for name, messages in detail.items()}
        ) from error


class AuthenticatedRequest(Request):
    """A request past IsAuthenticated (REST_FRAMEWORK's DEFAULT_PERMISSION_CLASSES): its user is
    a signed-in `User`, never AnonymousUser."""

    user: User


_Record = TypeVar("_Record", bound=Model)


class ApiViewSet(viewsets.GenericViewSet[_Record], Generic[_Record]):
    lookup_value_converter = "int"
    noun = "record"
    request: AuthenticatedRequest

    def dispatch(self, request, *args, **kwargs):
        # Times go out in UTC, and a time sent without an offset is read as UTC, whoever is
        # asking: a program should not see other offsets because a person's session is used.
        with timezone.override(UTC):
            return super().dispatch(request, *args, **kwargs)

    def get_object(self) -> _Record:
        try:
            return super().get_object()
        except Http404:
            raise exceptions.NotFound(f"No {self.noun} with id {self.kwargs['pk']}.") from None

    def query(self, filter_serializer: type[serializers.Serializer]) -> dict:
        """The validated query parameters of a list."""
        params = filter_serializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        return params.validated_data

    def valid(self, serializer_class: type[serializers.Serializer], **kwargs) -> dict:
        """The validated request body."""
        serializer = serializer_class(
            data=self.request.data, context=self.get_serializer_context(), **kwargs
        )
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def page_of(self, queryset: QuerySet) -> Response:
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request: AuthenticatedRequest, pk: int) -> Response:
        return Response(self.get_serializer(self.get_object()).data)

    def shown(self, instance: _Record, **kwargs) -> Response:
        """The record as stored now (services update related fields), read through the
        selector again."""
        fresh = self.get_queryset().get(pk=instance.pk)
        return Response(self.get_serializer(fresh).data, **kwargs)


# --- Leads ---------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List leads",
        description="Your leads (a manager: the team's), newest first, filtered.",
        parameters=[api.LeadFilterSerializer],
    ),
    create=extend_schema(
        summary="Add a lead",
        description="The lead is yours (`owner` is ignored) and gets its first follow-up by "
        "the cadence; scores follow shortly. A name or an email is required.",
        examples=[
            OpenApiExample(
                "A referred lead",
                request_only=True,
                value={
                    "first_name": "Ada",
                    "last_name": "Lovelace",
                    "email": "ada@example.com",
                    "title": "Head of Engineering",
                    "company_name": "Analytical Engines",
                    "source": "referral",
                    "expected_value": "12000.00",
                    "tags": ["fintech"],
                },
            )
        ],
    ),
    retrieve=extend_schema(summary="Get a lead"),
    partial_update=extend_schema(
        summary="Change a lead",
        description="Only the fields sent change. Sending another `stage` moves the lead "
        "through the pipeline (and `stage_reason` says why; required for lost).",
    ),
    destroy=extend_schema(
        summary="Delete a lead", description="With its activities, follow-ups and history."
    ),
)
class LeadViewSet(ApiViewSet[Lead]):
    serializer_class = api.LeadSerializer
    noun = "lead"
    http_method_names = WRITE_METHODS

    def get_queryset(self) -> QuerySet[Lead]:
        return leads_visible_to(self.request.user).select_related("company")

    def list(self, request: AuthenticatedRequest) -> Response:
        filters = self.query(api.LeadFilterSerializer)
        return self.page_of(leads_filtered(request.user, filters).select_related("company"))

    def create(self, request: AuthenticatedRequest) -> Response:
        data = self.valid(api.LeadSerializer)
        data.pop("stage_reason", None)
        if data.get("stage") == "lost":
            raise exceptions.ValidationError(
                {
                    "stage": "A lead can't start lost: add it, then move it to lost with a "
                    "reason (POST /api/v1/leads/{id}/stage/)."
                }
            )
        with service_errors():
            lead = lead_services.lead_create(owner=request.user, created_by=request.user, **data)
        return self.shown(lead, status=status.HTTP_201_CREATED)

    def partial_update(self, request: AuthenticatedRequest, pk: int) -> Response:
        lead = self.get_object()
        data = self.valid(api.LeadSerializer, instance=lead, partial=True)
        to_stage = data.pop("stage", None)
        stage_reason = data.pop("stage_reason", "")
        company_name = data.pop("company_name", None)
        current_name = lead.company.name if lead.company is not None else ""
        with service_errors(reason="stage_reason"), transaction.atomic():
            if "company" not in data and company_name not in (None, current_name):
                data["company"] = lead_services.company_find_or_create(
                    owner=lead.owner, name=company_name
                )
            if data:
                lead_services.lead_update(lead=lead, user=request.user, **data)
            if to_stage is not None and to_stage != lead.stage:
                lead_services.lead_change_stage(
                    lead=lead, to_stage=to_stage, user=request.user, reason=stage_reason
                )
        return self.shown(lead)

    def destroy(self, request: AuthenticatedRequest, pk: int) -> Response:
        lead_services.lead_delete(lead=self.get_object(), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Explain a lead's score",
        description="The fit (best ICP, criteria matched, unmatched, unknown and knock-outs), "
        "the intent (hand-raise signals after decay) and the referral bonus.",
        responses=api.LeadScoreSerializer,
    )
    @action(detail=True, methods=["get"])
    def score(self, request: AuthenticatedRequest, pk: int) -> Response:
        lead = self.get_object()
        lead = leads_visible_to(request.user).select_related("best_icp").get(pk=lead.pk)
        return Response(api.LeadScoreSerializer(lead).data)

    @extend_schema(
        summary="Move a lead to another stage",
        request=api.StageMoveSerializer,
        responses=api.LeadSerializer,
    )
    @action(detail=True, methods=["post"])
    def stage(self, request: AuthenticatedRequest, pk: int) -> Response:
        lead = self.get_object()
        data = self.valid(api.StageMoveSerializer)
        with service_errors():
            lead_services.lead_change_stage(
                lead=lead, to_stage=data["stage"], user=request.user, reason=data.get("reason", "")
            )
        return self.shown(lead)


# --- Activities ----------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List activities",
        description="Touches and signals on the leads you see, newest first.",
        parameters=[api.ActivityFilterSerializer],
    ),
    create=extend_schema(
        summary="Log an activity",
        examples=[
            OpenApiExample(
                "A call nobody answered",
                request_only=True,
                value={"lead": 1, "kind": "call", "outcome": "no_answer", "text": "Try Friday"},
            )
        ],
        description="A call, email, meeting, message or note, or a hand-raise signal. The lead "
        "moves along as on its page: stage, follow-ups and intent score follow.",
    ),
    retrieve=extend_schema(summary="Get an activity"),
)
class ActivityViewSet(ApiViewSet[Activity]):
    serializer_class = api.ActivitySerializer
    noun = "activity"
    http_method_names = READ_AND_CREATE

    def get_queryset(self) -> QuerySet[Activity]:
        return activities_visible_to(self.request.user)

    def list(self, request: AuthenticatedRequest) -> Response:
        filters = self.query(api.ActivityFilterSerializer)
        activities = self.get_queryset()
        if "lead" in filters:
            activities = activities.filter(lead_id=filters["lead"])
        if "kind" in filters:
            activities = activities.filter(kind=filters["kind"])
        return self.page_of(activities)

    def create(self, request: AuthenticatedRequest) -> Response:
        data = self.valid(api.ActivitySerializer)
        with service_errors():
            activity = lead_services.activity_log(
                lead=data["lead"],
                user=request.user,
                kind=data["kind"],
                outcome=data.get("outcome", ""),
                direction=data.get("direction"),
                occurred_at=data.get("occurred_at"),
                text=data.get("text", ""),
            )
        return self.shown(activity, status=status.HTTP_201_CREATED)


# --- Follow-ups ----------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List pending follow-ups",
        description="The next steps not done yet on the leads you see, soonest first.",
        parameters=[api.FollowUpFilterSerializer],
    ),
    create=extend_schema(
        summary="Plan a follow-up",
        description="Sets the lead's next step; it replaces the one pending (a lead has one).",
    ),
    retrieve=extend_schema(summary="Get a follow-up"),
)
class FollowUpViewSet(ApiViewSet[FollowUp]):
    serializer_class = api.FollowUpSerializer
    pagination_class = SoonestFirstCursorPagination
    noun = "follow-up"
    http_method_names = READ_AND_CREATE

    def get_queryset(self) -> QuerySet[FollowUp]:
        return follow_ups_visible_to(self.request.user).select_related("lead")

    def list(self, request: AuthenticatedRequest) -> Response:
        filters = self.query(api.FollowUpFilterSerializer)
        follow_ups = self.get_queryset().filter(done_at__isnull=True)
        if "lead" in filters:
            follow_ups = follow_ups.filter(lead_id=filters["lead"])
        if "due_before" in filters:
            follow_ups = follow_ups.filter(due_at__lt=filters["due_before"])
        return self.page_of(follow_ups)

    def create(self, request: AuthenticatedRequest) -> Response:
        data = self.valid(api.FollowUpSerializer)
        with service_errors():
            follow_up = lead_services.follow_up_schedule(user=request.user, **data)
        return self.shown(follow_up, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Mark a follow-up done",
        description="The cadence then plans the lead's next step, returned as `next`. "
        "Completing one already done changes nothing.",
        request=None,
        responses=api.FollowUpCompletedSerializer,
    )
    @action(detail=True, methods=["post"])
    def complete(self, request: AuthenticatedRequest, pk: int) -> Response:
        follow_up = self.get_object()
        with service_errors():
            next_follow_up = lead_services.follow_up_complete(
                follow_up=follow_up, user=request.user
            )
        context = self.get_serializer_context()
        completed = self.get_queryset().get(pk=follow_up.pk)
        return Response(
            api.FollowUpCompletedSerializer(
                {"completed": completed, "next": next_follow_up}, context=context
            ).data
        )

    @extend_schema(
        summary="Snooze a follow-up",
        description="Pushes a pending follow-up `days` later, to the start of a working day.",
        request=api.SnoozeSerializer,
        responses=api.FollowUpSerializer,
    )
    @action(detail=True, methods=["post"])
    def snooze(self, request: AuthenticatedRequest, pk: int) -> Response:
        follow_up = self.get_object()
        data = self.valid(api.SnoozeSerializer)
        with service_errors():
            lead_services.follow_up_snooze(follow_up=follow_up, user=request.user, **data)
        return self.shown(follow_up)


# --- Referral sources and asks -------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List referral sources", parameters=[api.ReferralSourceFilterSerializer]
    ),
    create=extend_schema(summary="Add a referral source"),
    retrieve=extend_schema(summary="Get a referral source"),
    partial_update=extend_schema(
        summary="Change a referral source", request=api.ReferralSourceUpdateSerializer
    ),
)
class ReferralSourceViewSet(ApiViewSet[ReferralSource]):
    serializer_class = api.ReferralSourceSerializer
    noun = "referral source"
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[ReferralSource]:
        return referral_sources_visible_to(self.request.user)

    def list(self, request: AuthenticatedRequest) -> Response:
        filters = self.query(api.ReferralSourceFilterSerializer)
        sources = self.get_queryset()
        if filters.get("opted_out") is not None:
            sources = sources.filter(opted_out=filters["opted_out"])
        return self.page_of(sources)

    def create(self, request: AuthenticatedRequest) -> Response:
        data = self.valid(api.ReferralSourceSerializer)
        with service_errors():
            source = referral_services.referral_source_create(owner=request.user, **data)
        return self.shown(source, status=status.HTTP_201_CREATED)

    def partial_update(self, request: AuthenticatedRequest, pk: int) -> Response:
        source = self.get_object()
        data = self.valid(api.ReferralSourceUpdateSerializer, instance=source, partial=True)
        with service_errors():
            referral_services.referral_source_update(source=source, **data)
        return self.shown(source)

    @extend_schema(
        summary="Record a referral ask",
        description="Logs that you asked this source for referrals; the next ask is due after "
        "the source's cadence. A customer's lead gets the ask on its timeline.",
        request=api.ReferralAskSerializer,
        responses={201: api.ReferralAskSerializer},
    )
    @action(detail=True, methods=["post"])
    def asks(self, request: AuthenticatedRequest, pk: int) -> Response:
        source = self.get_object()
        data = self.valid(api.ReferralAskSerializer)
        with service_errors():
            ask = referral_services.referral_ask_record(source=source, user=request.user, **data)
        return Response(
            api.ReferralAskSerializer(ask, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )


@extend_schema_view(
    list=extend_schema(summary="List referral asks", parameters=[api.ReferralAskFilterSerializer]),
    retrieve=extend_schema(summary="Get a referral ask"),
)
class ReferralAskViewSet(ApiViewSet[ReferralAsk]):
    serializer_class = api.ReferralAskSerializer
    noun = "referral ask"
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[ReferralAsk]:
        return referral_asks_visible_to(self.request.user)

    def list(self, request: AuthenticatedRequest) -> Response:
        filters = self.query(api.ReferralAskFilterSerializer)
        asks = self.get_queryset()
        if "source" in filters:
            asks = asks.filter(source_id=filters["source"])
        return self.page_of(asks)

    @extend_schema(
        summary="Record how an ask went",
        request=api.AskOutcomeSerializer,
        responses=api.ReferralAskSerializer,
    )
    @action(detail=True, methods=["post"])
    def outcome(self, request: AuthenticatedRequest, pk: int) -> Response:
        ask = self.get_object()
        data = self.valid(api.AskOutcomeSerializer)
        with service_errors():
            referral_services.referral_ask_set_outcome(ask=ask, user=request.user, **data)
        return self.shown(ask)


# --- ICPs and criteria ---------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="List ICPs"),
    create=extend_schema(summary="Add an ICP", description="Your leads are rescored after."),
    retrieve=extend_schema(summary="Get an ICP with its criteria"),
    partial_update=extend_schema(summary="Change an ICP"),
    destroy=extend_schema(summary="Delete an ICP", description="With its criteria."),
)
class IcpViewSet(ApiViewSet[ICP]):
    serializer_class = api.IcpSerializer
    noun = "ICP"
    http_method_names = WRITE_METHODS

    def get_queryset(self) -> QuerySet[ICP]:
        return icps_visible_to(self.request.user).prefetch_related("criteria")

    def list(self, request: AuthenticatedRequest) -> Response:
        return self.page_of(self.get_queryset())

    def create(self, request: AuthenticatedRequest) -> Response:
        data = self.valid(api.IcpSerializer)
        with service_errors():
            icp = icp_services.icp_create(owner=request.user, **data)
        return self.shown(icp, status=status.HTTP_201_CREATED)

    def partial_update(self, request: AuthenticatedRequest, pk: int) -> Response:
        icp = self.get_object()
        data = self.valid(api.IcpSerializer, instance=icp, partial=True)
        with service_errors():
            icp_services.icp_update(icp=icp, **data)
        return self.shown(icp)

    def destroy(self, request: AuthenticatedRequest, pk: int) -> Response:
        icp_services.icp_delete(icp=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(summary="List ICP criteria", parameters=[api.CriterionFilterSerializer]),
    create=extend_schema(
        summary="Add a criterion to an ICP",
        description="`value` is a text (equals, contains), a list of texts (one_of) or a "
        '`{"min": …, "max": …}` range; which operators fit which field is in the error when '
        "one does not.",
        examples=[
            OpenApiExample(
                "Mid-sized companies",
                request_only=True,
                value={
                    "icp": 1,
                    "field": "employee_count",
                    "operator": "range",
                    "value": {"min": 50, "max": 500},
                    "weight": 20,
                    "required": True,
                },
            ),
            OpenApiExample(
                "Software or fintech",
                request_only=True,
                value={
                    "icp": 1,
                    "field": "industry",
                    "operator": "one_of",
                    "value": ["Software", "Fintech"],
                    "weight": 10,
                },
            ),
        ],
    ),
    retrieve=extend_schema(summary="Get a criterion"),
    partial_update=extend_schema(
        summary="Change a criterion", request=api.CriterionUpdateSerializer
    ),
    destroy=extend_schema(summary="Remove a criterion"),
)
class CriterionViewSet(ApiViewSet[Criterion]):
    serializer_class = api.CriterionSerializer
    noun = "criterion"
    http_method_names = WRITE_METHODS

    def get_queryset(self) -> QuerySet[Criterion]:
        # A criterion is visible with its ICP.
        return Criterion.objects.filter(icp__in=icps_visible_to(self.request.user))

    def list(self, request: AuthenticatedRequest) -> Response:
        filters = self.query(api.CriterionFilterSerializer)
        criteria = self.get_queryset()
        if "icp" in filters:
            criteria = criteria.filter(icp_id=filters["icp"])
        return self.page_of(criteria)

    def create(self, request: AuthenticatedRequest) -> Response:
        data = self.valid(api.CriterionSerializer)
        with service_errors():
            criterion = icp_services.criterion_create(**data)
        return self.shown(criterion, status=status.HTTP_201_CREATED)

    def partial_update(self, request: AuthenticatedRequest, pk: int) -> Response:
        criterion = self.get_object()
        data = self.valid(api.CriterionUpdateSerializer, instance=criterion, partial=True)
        with service_errors():
            icp_services.criterion_update(criterion=criterion, **data)
        return self.shown(criterion)

    def destroy(self, request: AuthenticatedRequest, pk: int) -> Response:
        icp_services.criterion_delete(criterion=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Anything else under /api/v1/ ----------------------------------------------------------


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
def endpoint_not_found(request: Request, path: str = "") -> Response:
    """A JSON 404 rather than the app's HTML page, with a hint when only the slash is missing.
    Like every API address, it answers 401 first to a request without a token."""
    message = "No API endpoint at this address; see /api/v1/docs/."
    if not request.path.endswith("/"):
        try:
            match = resolve(f"{request.path}/")
        except Resolver404:
            match = None
        if match is not None and match.func is not endpoint_not_found:
            message = f"No API endpoint at this address; did you mean {request.path}/ ?"
    return Response({"error": message, "fields": {}}, status=status.HTTP_404_NOT_FOUND)
