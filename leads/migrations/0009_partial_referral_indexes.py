"""A lead's referral links (referred_by, referral_ask) indexed only where set.

Every score change rewrites all index entries of the lead (the score columns are indexed, so
PostgreSQL cannot update in place); most leads have no referral link, and a partial index has
no entry to write for them. Look-ups are always by a source or an ask, i.e. a non-null value,
which the partial indexes answer. (docs/performance.md, section 11.)
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("icp", "0002_historicalcriterion_historicalicp"),
        ("leads", "0008_lead_score_index"),
        ("referrals", "0002_historicalreferralsource"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="lead",
            name="referral_ask",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                help_text="The referral ask that produced this lead.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="produced_leads",
                to="referrals.referralask",
            ),
        ),
        migrations.AlterField(
            model_name="lead",
            name="referred_by",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="referred_leads",
                to="referrals.referralsource",
            ),
        ),
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(
                condition=models.Q(("referred_by__isnull", False)),
                fields=["referred_by"],
                name="lead_referred_by",
            ),
        ),
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(
                condition=models.Q(("referral_ask__isnull", False)),
                fields=["referral_ask"],
                name="lead_referral_ask",
            ),
        ),
    ]
