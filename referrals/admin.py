from __future__ import annotations

from django.contrib import admin

from referrals.models import ReferralAsk, ReferralSource


class ReferralAskInline(admin.TabularInline):
    model = ReferralAsk
    extra = 0
    fields = ["asked_at", "channel", "outcome", "referrals_given", "note", "asked_by"]
    readonly_fields = ["asked_by"]


@admin.register(ReferralSource)
class ReferralSourceAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "kind",
        "owner",
        "strength",
        "last_asked_at",
        "next_ask_at",
        "opted_out",
    ]
    list_filter = ["kind", "strength", "opted_out", "owner"]
    search_fields = ["name", "email"]
    list_select_related = ["owner"]
    raw_id_fields = ["lead"]
    readonly_fields = ["last_asked_at", "next_ask_at"]
    inlines = [ReferralAskInline]


@admin.register(ReferralAsk)
class ReferralAskAdmin(admin.ModelAdmin):
    list_display = ["asked_at", "source", "channel", "outcome", "referrals_given"]
    list_filter = ["outcome", "channel"]
    search_fields = ["source__name"]
    list_select_related = ["source"]
    raw_id_fields = ["source"]
