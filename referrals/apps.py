from __future__ import annotations

from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "referrals"

    def ready(self) -> None:
        # Leads may not import referrals: it calls this to turn a lead form's "Referred by"
        # into a referral source (leads/referrers.py).
        from leads.referrers import register_referrer_resolver
        from referrals.services import referral_source_for_choice

        register_referrer_resolver(referral_source_for_choice)
