"""The admin for sales managers: the team's leads, with bulk actions and the change history.

Writes go through the services, as they do in the app: the change form saves with
`lead_update`, and the bulk actions call `leads_reassign`, `lead_change_stage` and the
rescoring. Owner and stage are changed by the actions only, since each has rules to keep
(company links, stage history, follow-ups).
"""

from __future__ import annotations

from functools import cached_property

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import connection, models, transaction
from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from simple_history.admin import SimpleHistoryAdmin

from accounts.admin_bases import ServiceWrittenAdmin
from accounts.models import User
from leadhunter.forms import form_error_messages
from leadhunter.spreadsheet import records_csv_lines
from leads import dependents, merging, selectors, services
from leads.forms import StageForm
from leads.models import (
    DERIVED_LEAD_FIELDS,
    Activity,
    Company,
    FollowUp,
    Lead,
    LeadMerge,
    StageChange,
)


class ReadOnlyHistoryAdmin(SimpleHistoryAdmin):
    """The "History" page lists who changed what; reverting from it is switched off, because a
    revert would save an old version directly, past the rules the services keep."""

    def revert_disabled(self, request: HttpRequest, obj: object = None) -> bool:
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method != "GET":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


class EstimatedCountPaginator(Paginator):
    """Pagination without an exact COUNT(*) over a large table.

    Unfiltered on PostgreSQL, the count is the planner's estimate (pg_class.reltuples, kept by
    autovacuum's ANALYZE), when the table is big enough for an exact count to hurt. Otherwise
    (a filter or a search, a small table, SQLite) it is the real count up to COUNT_CAP: past
    that, a manager narrows the list with a filter rather than paging on.
    """

    ESTIMATE_ABOVE = 50_000
    COUNT_CAP = 10_000

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not isinstance(queryset, QuerySet):
            return super().count
        if connection.vendor == "postgresql" and not queryset.query.where:
            estimate = _estimated_rows(queryset.model._meta.db_table)
            if estimate > self.ESTIMATE_ABOVE:
                return estimate
        # No ORDER BY: counting the first rows found needs no sort of the whole result; only
        # the keys: the changelist's annotations (the "cold" column's Exists) would be worked
        # out for every row counted.
        return queryset.order_by().values("pk")[: self.COUNT_CAP].count()


def _estimated_rows(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [table])
        row = cursor.fetchone()
    return int(row[0]) if row else -1  # -1: never analysed


# A URL pasted without a scheme ("linkedin.com/in/…") is taken as https, as in the app.
URL_FIELDS_ASSUME_HTTPS = {models.URLField: {"assume_scheme": "https"}}


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "domain", "owner", "industry", "employee_count", "country"]
    list_filter = ["owner", "industry", "country"]
    search_fields = ["name", "domain"]
    list_select_related = ["owner"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    show_facets = admin.ShowFacets.NEVER
    formfield_overrides = URL_FIELDS_ASSUME_HTTPS


class ReadOnlyInline(admin.TabularInline):
    """Activities, follow-ups and stage changes are written by the services only."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class ActivityInline(ReadOnlyInline):
    model = Activity
    fields = ["occurred_at", "kind", "direction", "outcome", "user", "text"]
    readonly_fields = fields
    ordering = ["-occurred_at"]
    show_change_link = True


class FollowUpInline(ReadOnlyInline):
    model = FollowUp
    fields = ["due_at", "kind", "rule", "note", "done_at", "resolution"]
    readonly_fields = fields
    ordering = ["-due_at"]


class StageChangeInline(ReadOnlyInline):
    model = StageChange
    fields = ["changed_at", "from_stage", "to_stage", "changed_by", "reason"]
    readonly_fields = fields


class GoingColdFilter(admin.SimpleListFilter):
    title = "going cold"
    parameter_name = "cold"

    def lookups(self, request, model_admin):
        return [("yes", "Going cold"), ("no", "Not going cold")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(selectors.going_cold_condition())
        if self.value() == "no":
            return queryset.exclude(selectors.going_cold_condition())
        return queryset


def _https_url_fields(field: models.Field, **kwargs) -> forms.Field | None:
    if isinstance(field, models.URLField):
        kwargs = {**URL_FIELDS_ASSUME_HTTPS[models.URLField], **kwargs}
    return field.formfield(**kwargs)


class LeadAdminForm(forms.ModelForm):
    class Meta:
        model = Lead
        formfield_callback = _https_url_fields  # the admin's own callback replaces it
        # Every field the admin shows (it leaves out the read-only ones); a list here would
        # narrow the form to it.
        fields = "__all__"  # noqa: DJ007

    def clean(self):
        cleaned = super().clean()
        # The same rule as the services: a lead points only at its owner's records.
        owner = self.instance.owner
        for name, what in (("company", "companies"), ("referred_by", "referral sources")):
            related = cleaned.get(name)
            if related is not None and related.owner_id != owner.pk:
                self.add_error(name, f"Choose one of {owner}'s own {what}.")
        return cleaned


class ReassignForm(forms.Form):
    to_owner = forms.ModelChoiceField(
        label="Give the leads to",
        queryset=User.objects.filter(is_active=True).order_by("first_name", "username"),
        error_messages={
            "invalid_choice": "Choose an active salesperson: that user can't take leads."
        },
    )


# Cells a spreadsheet would run as a formula; a leading quote makes them plain text.
CSV_COLUMNS = (
    ("ID", lambda lead: lead.pk),
    ("First name", lambda lead: lead.first_name),
    ("Last name", lambda lead: lead.last_name),
    ("Email", lambda lead: lead.email),
    ("Phone", lambda lead: lead.phone),
    ("Title", lambda lead: lead.title),
    ("Company", lambda lead: lead.company.name if lead.company else ""),
    ("Owner", lambda lead: str(lead.owner)),  # a username can start with + - @
    ("Stage", lambda lead: lead.get_stage_display()),
    ("Source", lambda lead: lead.get_source_display()),
    ("Grade", lambda lead: lead.grade),
    ("Score", lambda lead: lead.total_score),
    ("Expected value", lambda lead: lead.expected_value),
    ("Currency", lambda lead: lead.currency),
    ("Next follow-up", lambda lead: _local(lead.next_follow_up_at)),
    ("Last contacted", lambda lead: _local(lead.last_contacted_at)),
    ("Created", lambda lead: _local(lead.created_at)),
)
RESCORE_CHUNK = 2000


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


@admin.register(Lead)
class LeadAdmin(ReadOnlyHistoryAdmin):
    form = LeadAdminForm
    list_display = [
        "__str__",
        "company",
        "owner",
        "stage",
        "source",
        "score",
        "next_follow_up_at",
        "last_contacted_at",
        "going_cold",
    ]
    list_filter = [
        "owner",
        "stage",
        "source",
        "grade",
        GoingColdFilter,
        ("created_at", admin.DateFieldListFilter),
    ]
    search_fields = ["first_name", "last_name", "email", "phone", "company__name"]
    list_select_related = ["owner", "company"]
    # Issue 20: drawing a row is most of the page's time (Django's admin renders each cell
    # through its display helpers); 50 rows, as the app's own list, halve it. A manager narrows
    # the list with a filter, or acts on "all N matching", rather than reading page after page.
    list_per_page = 50
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    show_facets = admin.ShowFacets.NEVER  # "Show counts" would COUNT once per filter choice
    formfield_overrides = URL_FIELDS_ASSUME_HTTPS
    raw_id_fields = ["company", "referred_by"]
    readonly_fields = [
        "owner",
        "stage",
        "lost_reason",
        "referral_ask",
        *DERIVED_LEAD_FIELDS,
        "stage_changed_at",
        "won_at",
        "created_at",
        "updated_at",
    ]
    inlines = [FollowUpInline, ActivityInline, StageChangeInline]
    actions = ["reassign_owner", "change_stage", "rescore", "export_csv"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Lead]:
        # in_pool: the "cold" column asks no query per row (selectors.is_going_cold).
        leads = selectors.leads_visible_to(request.user).annotate(
            in_pool=selectors.in_network_pool()
        )
        ordering = self.get_ordering(request)
        return leads.order_by(*ordering) if ordering else leads

    def action_checkbox(self, lead: Lead) -> str:
        """Django's row checkbox, the same HTML written directly: Django renders it through the
        form widget templates, a template render per row (a fifth of the changelist's time)."""
        label = format_html(gettext("Select this object for an action - {}"), str(lead))
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            ACTION_CHECKBOX_NAME,
            lead.pk,
            label,
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Leads come in through the app, where lead_create plans the first follow-up.
        return False

    def save_model(self, request, lead, form, change) -> None:
        changed = {
            name: form.cleaned_data[name]
            for name in form.changed_data
            if name in services.EDITABLE_LEAD_FIELDS
        }
        services.lead_update(lead=lead, user=request.user, **changed)

    @admin.display(description="score", ordering="total_score")
    def score(self, lead: Lead) -> str:
        return f"{lead.grade} · {lead.total_score}"

    # Words, not Django's ✓/✗ icons: a red ✗ on every lead not going cold read as an error.
    @admin.display(description="going cold")
    def going_cold(self, lead: Lead) -> str:
        return "Going cold" if selectors.is_going_cold(lead) else ""

    # --- Actions -------------------------------------------------------------------------

    @admin.action(description="Reassign selected leads to…", permissions=["change"])
    def reassign_owner(self, request: HttpRequest, queryset: QuerySet[Lead]):
        form = ReassignForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            if form.is_bound:
                self.message_user(request, " ".join(form_error_messages(form)), messages.ERROR)
            return self._action_page(request, queryset, form, "Reassign leads", "reassign_owner")
        to_owner = form.cleaned_data["to_owner"]
        try:
            result = services.leads_reassign(leads=queryset, to_owner=to_owner, by=request.user)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return None
        text = f"Gave {_leads(result.reassigned)} to {to_owner}."
        if result.unlinked:
            text += f" Unlinked what was the old owner's: {_first(result.unlinked)}"
        if result.skipped:
            text += f" Skipped {len(result.skipped)}: {_first(result.skipped)}"
        level = messages.SUCCESS if result.reassigned else messages.WARNING
        self.message_user(request, text, level)
        return None

    @admin.action(description="Move selected leads to a stage…", permissions=["change"])
    def change_stage(self, request: HttpRequest, queryset: QuerySet[Lead]):
        form = StageForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            if form.is_bound:
                self.message_user(request, " ".join(form_error_messages(form)), messages.ERROR)
            return self._action_page(request, queryset, form, "Move leads", "change_stage")
        # One transaction per lead (a lead that can't move is named, the others move) and one
        # audit event for the whole operation.
        moved, skipped = services.leads_bulk_action(
            leads=list(
                queryset.select_related(None).only(
                    "pk", "first_name", "last_name", "email", "stage"
                )
            ),
            user=request.user,
            action="stage",
            to_stage=form.cleaned_data["to_stage"],
            reason=form.cleaned_data["reason"],
        )
        text = f"Moved {_leads(moved)}."
        if skipped:
            text += f" Skipped {len(skipped)}: {_first(skipped)}"
        self.message_user(request, text, messages.SUCCESS if moved else messages.WARNING)
        return None

    @admin.action(description="Rescore selected leads", permissions=["change"])
    def rescore(self, request: HttpRequest, queryset: QuerySet[Lead]) -> None:
        lead_ids = list(queryset.order_by("pk").values_list("pk", flat=True))
        scored = changed = 0
        for start in range(0, len(lead_ids), RESCORE_CHUNK):
            # A transaction per chunk: each commits as it goes, so a long selection shows
            # progress in the scores and a failure loses one chunk's work, not all of it.
            with transaction.atomic():
                summary = dependents.leads_rescore(lead_ids=lead_ids[start : start + RESCORE_CHUNK])
            scored += summary.scored
            changed += summary.changed
        self.message_user(request, f"Rescored {_leads(scored)}; {changed} scores changed.")

    @admin.action(description="Export selected leads to CSV", permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Lead]) -> StreamingHttpResponse:
        leads = queryset.select_related("owner", "company").order_by("pk")
        response = StreamingHttpResponse(
            records_csv_lines(leads.iterator(chunk_size=2000), CSV_COLUMNS)
        )
        response["Content-Type"] = "text/csv; charset=utf-8"
        filename = f"leads-{timezone.localdate():%Y-%m-%d}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    def _action_page(
        self,
        request: HttpRequest,
        queryset: QuerySet[Lead],
        form: forms.Form,
        title: str,
        action: str,
    ) -> TemplateResponse:
        """The intermediate page of an action: the form, and the selection posted back."""
        preview = list(queryset.select_related(None).only("first_name", "last_name", "email")[:11])
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.opts,
            "form": form,
            "action": action,
            "leads_preview": preview[:10],
            "more": len(preview) > 10,
            "count": queryset.count() if len(preview) > 10 else len(preview),
            "selected_ids": request.POST.getlist(ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across") == "1",
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "media": self.media,
        }
        return TemplateResponse(request, "admin/leads/lead/action_form.html", context)


def _leads(count: int) -> str:
    return f"{count} lead{'' if count == 1 else 's'}"


def _first(items: list[str], shown: int = 5) -> str:
    text = "; ".join(item.rstrip(".") for item in items[:shown])
    return f"{text}; and {len(items) - shown} more." if len(items) > shown else f"{text}."


@admin.register(Activity)
class ActivityAdmin(ServiceWrittenAdmin):
    list_display = ["occurred_at", "kind", "direction", "outcome", "lead", "user"]
    list_filter = ["kind", "direction", "outcome"]
    search_fields = ["lead__first_name", "lead__last_name", "lead__email", "text"]
    list_select_related = ["lead", "user"]
    raw_id_fields = ["lead"]
    date_hierarchy = "occurred_at"
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    show_facets = admin.ShowFacets.NEVER


@admin.register(FollowUp)
class FollowUpAdmin(ServiceWrittenAdmin):
    list_display = ["due_at", "kind", "lead", "rule", "done_at", "resolution"]
    list_filter = ["kind", "resolution", "rule"]
    search_fields = ["lead__first_name", "lead__last_name", "lead__email", "note"]
    list_select_related = ["lead"]
    raw_id_fields = ["lead"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    show_facets = admin.ShowFacets.NEVER


@admin.register(LeadMerge)
class LeadMergeAdmin(admin.ModelAdmin):
    """Who merged which leads, for managers to look at: merges are made and undone on the
    lead's page, where the services keep the rows and the undo record in step."""

    list_display = ["merged_at", "duplicate_name", "survivor", "owner", "merged_by", "undone_at"]
    list_filter = ["owner", ("undone_at", admin.EmptyFieldListFilter)]
    search_fields = ["duplicate_name", "survivor_name"]
    list_select_related = ["survivor", "owner", "merged_by"]
    date_hierarchy = "merged_at"
    show_facets = admin.ShowFacets.NEVER

    def get_queryset(self, request: HttpRequest) -> QuerySet[LeadMerge]:
        return merging.merges_visible_to(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
