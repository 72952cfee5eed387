from django.db import migrations, models


class Migration(migrations.Migration):
    """New accounts get the daily digest (a salesperson can turn it off in Settings); existing
    accounts keep the setting they have: only the column's default changes."""

    dependencies = [
        ("accounts", "0005_user_is_demo"),
    ]

    operations = [
        migrations.AlterField(
            model_name="user",
            name="daily_digest_email",
            field=models.BooleanField(
                default=True,
                help_text="Each morning: overdue and due-today follow-ups and new hand-raisers.",
                verbose_name="daily follow-up digest",
            ),
        ),
    ]
