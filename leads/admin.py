from __future__ import annotations

from django.contrib import admin

from leads.models import Activity, Company, FollowUp, Lead, StageChange


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "domain", "owner", "industry", "employee_count", "country"]
    list_filter = ["owner", "industry", "country"]
    search_fields = ["name", "domain"]
    list_select_related = ["owner"]
    show_full_result_count = False


class ActivityInline(admin.TabularInline):
    model = Activity
    extra = 0
    fields = ["occurred_at", "kind", "direction", "outcome", "user", "text"]
    readonly_fields = fields
    ordering = ["-occurred_at"]
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class FollowUpInline(admin.TabularInline):
    model = FollowUp
    extra = 0
    fields = ["due_at", "kind", "rule", "note", "done_at", "resolution"]
    readonly_fields = fields
    ordering = ["-due_at"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class StageChangeInline(admin.TabularInline):
    model = StageChange
    extra = 0
    fields = ["changed_at", "from_stage", "to_stage", "changed_by", "reason"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "company",
        "owner",
        "stage",
        "source",
        "grade",
        "total_score",
        "next_follow_up_at",
        "last_contacted_at",
    ]
    list_filter = ["stage", "source", "grade", "owner", "created_at"]
    search_fields = ["first_name", "last_name", "email", "company__name"]
    list_select_related = ["owner", "company"]
    show_full_result_count = False
    raw_id_fields = ["company", "referred_by", "referral_ask", "best_icp"]
    readonly_fields = [
        "fit_score",
        "intent_score",
        "total_score",
        "grade",
        "best_icp",
        "score_explanation",
        "scored_at",
        "next_follow_up_at",
        "last_contacted_at",
        "last_inbound_at",
        "unanswered_touches",
        "first_unanswered_at",
        "stage_changed_at",
        "won_at",
        "created_at",
        "updated_at",
    ]
    inlines = [FollowUpInline, ActivityInline, StageChangeInline]


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "kind", "direction", "outcome", "lead", "user"]
    list_filter = ["kind", "direction", "outcome"]
    search_fields = ["lead__first_name", "lead__last_name", "lead__email", "text"]
    list_select_related = ["lead", "user"]
    raw_id_fields = ["lead"]
    date_hierarchy = "occurred_at"
    show_full_result_count = False


@admin.register(FollowUp)
class FollowUpAdmin(admin.ModelAdmin):
    list_display = ["due_at", "kind", "lead", "rule", "done_at", "resolution"]
    list_filter = ["kind", "resolution", "rule"]
    search_fields = ["lead__first_name", "lead__last_name", "lead__email", "note"]
    list_select_related = ["lead"]
    raw_id_fields = ["lead"]
    show_full_result_count = False
