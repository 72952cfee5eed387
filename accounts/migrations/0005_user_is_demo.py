from django.db import migrations, models

# The demo's three accounts, as team/demo.py creates them; databases seeded before the
# is_demo flag existed get it set here so "Remove the demo data" finds them.
DEMO_ACCOUNTS = {"sam": "sam@example.com", "jordan": "jordan@example.com", "morgan": "morgan@example.com"}


def mark_existing_demo_accounts(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    for username, email in DEMO_ACCOUNTS.items():
        User.objects.filter(username=username, email=email).update(is_demo=True)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_password_reset_request"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="is_demo",
            field=models.BooleanField(
                default=False,
                editable=False,
                help_text="Created by the demo data; 'Remove the demo data' deletes it and its records.",
                verbose_name="demo account",
            ),
        ),
        migrations.RunPython(mark_existing_demo_accounts, migrations.RunPython.noop),
    ]
