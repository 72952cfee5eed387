"""Referral sources and asks for sales managers, with the sources' change history.

Asks are logged in the app (`referral_ask_record` keeps when to ask next), so they are read
here, not added.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin

from leads.admin import EstimatedCountPaginator, ReadOnlyHistoryAdmin
from referrals.models import ReferralAsk, ReferralSource


class ReferralAskInline(admin.TabularInline):
    model = ReferralAsk
    extra = 0
    can_delete = False
    fields = ["asked_at", "channel", "outcome", "referrals_given", "note", "asked_by"]
    readonly_fields = fields
    ordering = ["-asked_at"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class ReferralSourceAdminForm(forms.ModelForm):
    class Meta:
        model = ReferralSource
        # Every field the admin shows (it leaves out the read-only ones); a list here would
        # narrow the form to it.
        fields = "__all__"  # noqa: DJ007

    def clean(self):
        cleaned = super().clean()
        owner, lead = cleaned.get("owner"), cleaned.get("lead")
        # As in the services: a customer source belongs to whoever owns the customer's lead.
        if owner is not None and lead is not None and lead.owner_id != owner.pk:
            self.add_error("lead", f"Choose one of {owner}'s own leads.")
        return cleaned


@admin.register(ReferralSource)
class ReferralSourceAdmin(ReadOnlyHistoryAdmin):
    form = ReferralSourceAdminForm
    list_display = [
        "name",
        "kind",
        "owner",
        "strength",
        "last_asked_at",
        "next_ask_at",
        "opted_out",
    ]
    list_filter = ["owner", "kind", "strength", "opted_out"]
    search_fields = ["name", "email"]
    list_select_related = ["owner"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    show_facets = admin.ShowFacets.NEVER
    raw_id_fields = ["lead"]
    readonly_fields = ["last_asked_at", "next_ask_at"]
    inlines = [ReferralAskInline]


@admin.register(ReferralAsk)
class ReferralAskAdmin(admin.ModelAdmin):
    list_display = ["asked_at", "source", "owner", "channel", "outcome", "referrals_given"]
    list_filter = ["outcome", "channel", "source__owner"]
    search_fields = ["source__name"]
    list_select_related = ["source__owner"]
    raw_id_fields = ["source"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    show_facets = admin.ShowFacets.NEVER

    @admin.display(description="owner", ordering="source__owner")
    def owner(self, ask: ReferralAsk) -> str:
        return str(ask.source.owner)
