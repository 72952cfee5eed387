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

        # A referral ask is a touch towards the daily goal (Today's bar). Leads counts touches
        # but must not import this app, so the asks are handed to it through its hook.
        from leads.selectors import touch_source_register
        from referrals.selectors import referral_asks_made

        touch_source_register(referral_asks_made)

        # Winning a lead makes the customer a referral source (leads/dependents.py).
        from leads.dependents import customer_won_register
        from referrals.services import referral_source_from_customer

        customer_won_register(referral_source_from_customer)
