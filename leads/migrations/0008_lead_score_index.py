"""lead_score (-total_score, -id): a manager's lead list as it opens, everyone's leads best
first, read from an index instead of sorting every lead (docs/performance.md, section 11)."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("icp", "0002_historicalcriterion_historicalicp"),
        ("leads", "0007_activity_signal_touch_indexes"),
        ("referrals", "0002_historicalreferralsource"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(fields=["-total_score", "-id"], name="lead_score"),
        ),
    ]
