"""ICP admin for sales managers: ICPs with their criteria inline, and both histories.

Saves and deletes here bypass the services, so they ask for the same rescoring the services do.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from icp.models import ICP, Criterion
from icp.rescoring import request_icp_rescore, request_owner_rescore
from leads.admin import ReadOnlyHistoryAdmin


class CriterionInline(admin.TabularInline):
    model = Criterion
    extra = 1
    fields = ("field", "operator", "value", "weight", "required")
    show_change_link = True  # to the criterion's history


@admin.register(ICP)
class ICPAdmin(ReadOnlyHistoryAdmin):
    list_display = ("name", "owner", "is_active", "criterion_count")
    list_filter = ("is_active", "owner")
    search_fields = ("name",)
    list_select_related = ("owner",)
    inlines = (CriterionInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[ICP]:
        return super().get_queryset(request).annotate(criterion_count=Count("criteria"))

    @admin.display(description="criteria", ordering="criterion_count")
    def criterion_count(self, icp: ICP) -> int:
        return icp.criterion_count

    def save_model(self, request, icp, form, change) -> None:
        super().save_model(request, icp, form, change)
        # The admin's change view runs in a transaction; these fire after it commits.
        request_icp_rescore(icp.pk)
        if change and "owner" in form.changed_data and form.initial.get("owner"):
            request_owner_rescore(form.initial["owner"])

    def save_formset(self, request, form, formset, change) -> None:
        super().save_formset(request, form, formset, change)
        request_icp_rescore(form.instance.pk)

    def delete_model(self, request, icp: ICP) -> None:
        owner_id = icp.owner_id
        super().delete_model(request, icp)
        request_owner_rescore(owner_id)

    def delete_queryset(self, request, queryset: QuerySet[ICP]) -> None:
        owner_ids = set(queryset.values_list("owner_id", flat=True))
        super().delete_queryset(request, queryset)
        for owner_id in owner_ids:
            request_owner_rescore(owner_id)


@admin.register(Criterion)
class CriterionAdmin(ReadOnlyHistoryAdmin):
    """Read-only: criteria are edited on their ICP (which rescores); this is for their history."""

    list_display = ("__str__", "icp", "owner", "weight", "required")
    list_filter = ("field", "required", "icp__owner")
    search_fields = ("icp__name",)
    list_select_related = ("icp__owner",)

    @admin.display(description="owner", ordering="icp__owner")
    def owner(self, criterion: Criterion) -> str:
        return str(criterion.icp.owner)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
