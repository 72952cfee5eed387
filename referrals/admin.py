"""Referral sources and asks for sales managers, with the sources' change history.

Every save goes through the referral services, as in the app: a source's cadence change moves
its next ask, an ask added here moves "last asked" and the next ask (`referral_ask_record`).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin

from leads.admin import EstimatedCountPaginator, ReadOnlyHistoryAdmin
from referrals import services
from referrals.models import AskOutcome, ReferralAsk, ReferralSource


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

    def save_model(self, request, obj: ReferralSource, form, change: bool) -> None:
        fields = {name: form.cleaned_data[name] for name in services.SOURCE_FIELDS}
        if not change:
            created = services.referral_source_create(
                owner=form.cleaned_data["owner"],
                lead=form.cleaned_data.get("lead"),
                **fields,
            )
            obj.pk = created.pk  # the admin's "added" message and redirect read it
            return
        # The owner and the customer lead are the admin's own fields (the form checked they
        # agree); the service recomputes the next ask from the cadence and saves.
        obj.owner, obj.lead = form.cleaned_data["owner"], form.cleaned_data.get("lead")
        services.referral_source_update(source=obj, **fields)


class ReferralAskAdminForm(forms.ModelForm):
    class Meta:
        model = ReferralAsk
        fields = ["source", "asked_at", "channel", "note", "outcome", "referrals_given"]

    def clean(self):
        # What the services refuse, as field errors rather than a server error.
        cleaned = super().clean()
        source = cleaned.get("source")
        if self.instance.pk is None and source is not None and source.opted_out:
            self.add_error("source", f"{source.name} opted out of referral asks.")
        if cleaned.get("outcome") == AskOutcome.GAVE and not cleaned.get("referrals_given"):
            self.add_error("referrals_given", "How many referrals did they give? At least 1.")
        return cleaned


@admin.register(ReferralAsk)
class ReferralAskAdmin(admin.ModelAdmin):
    form = ReferralAskAdminForm
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

    def get_readonly_fields(self, request, obj=None):
        # Once logged, an ask's who/when/how is history; only how it went can change.
        return ["source", "asked_at", "channel", "note"] if obj is not None else []

    def save_model(self, request, obj: ReferralAsk, form, change: bool) -> None:
        ask = obj
        if not change:
            ask = services.referral_ask_record(
                source=form.cleaned_data["source"],
                user=request.user,
                channel=form.cleaned_data["channel"],
                asked_at=form.cleaned_data["asked_at"],
                note=form.cleaned_data["note"],
            )
            obj.pk = ask.pk
        services.referral_ask_set_outcome(
            ask=ask,
            user=request.user,
            outcome=form.cleaned_data["outcome"],
            referrals_given=form.cleaned_data["referrals_given"] or 0,
        )
