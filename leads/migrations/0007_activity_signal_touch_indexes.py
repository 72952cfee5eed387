"""Partial indexes on activities found with `make bench` (docs/performance.md has the EXPLAIN).

- activity_hand_raise (lead, occurred_at) INCLUDE (kind) WHERE kind is a hand-raise: bulk
  rescoring reads each batch's signals from it (index-only on PostgreSQL) instead of walking
  every activity of 2,000 leads and filtering out the ~85% that are not hand-raises.
- activity_touch_time (occurred_at, user) WHERE kind is a touch and user is set: the activity
  report counts a team's year of touches per rep and week from the index alone.

- lead_stage_score gains INCLUDE (expected_value): the pipeline board's per-stage count and
  value for a manager becomes an index-only scan instead of a scan of every lead. Replacing
  the index keeps the number of indexes a rescoring UPDATE has to maintain the same.

SQLite supports partial indexes too; it ignores INCLUDE (the indexes are then plain ones).
"""

from __future__ import annotations

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0006_lead_performance_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(model_name="lead", name="lead_stage_score"),
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(
                fields=["stage", "-total_score", "-id"],
                include=("expected_value",),
                name="lead_stage_score",
            ),
        ),
        migrations.AddIndex(
            model_name="activity",
            index=models.Index(
                condition=models.Q(
                    (
                        "kind__in",
                        (
                            "replied",
                            "asked_for_info",
                            "asked_for_demo",
                            "attended_event",
                            "was_introduced",
                        ),
                    )
                ),
                fields=["lead", "occurred_at"],
                include=("kind",),
                name="activity_hand_raise",
            ),
        ),
        migrations.AddIndex(
            model_name="activity",
            index=models.Index(
                condition=models.Q(
                    ("kind__in", ("call", "email", "meeting", "linkedin")), ("user__isnull", False)
                ),
                fields=["occurred_at", "user"],
                name="activity_touch_time",
            ),
        ),
    ]
