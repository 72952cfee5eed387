from __future__ import annotations

from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "referrals"

    def ready(self) -> None:
        # A referral ask is a touch towards the daily goal (Today's bar). Leads counts touches
        # but must not import this app, so the asks are handed to it through its hook.
        from leads.selectors import touch_source_register
        from referrals.selectors import referral_asks_made

        touch_source_register(referral_asks_made)
