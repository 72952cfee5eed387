"""The lead search text and its trigram index move out of leads_lead (PostgreSQL only).

A score write changes indexed columns, so it is never a HOT update: every index of leads_lead
gets a new entry for each lead whose score changes, and the trigram GIN index over the search
text was ~25% of a bulk rescore's UPDATE (236 against 170 ms per 5,000 leads). In a table of
its own (`leads_lead_search`, one row per lead) that index is written only when a lead is
created or its name or email changes, by triggers on leads_lead; a score write does not fire
them (`UPDATE OF` names columns it does not set).

Forwards: one INSERT … SELECT of every lead, then the index built once over the table (a
sorted build, not a million inserts); the old index is dropped. Backwards: the old index is
built again on leads_lead and the table and triggers go. SQLite: nothing (no trigram search
there; the model is unmanaged and never queried on SQLite).
"""

from __future__ import annotations

import django.db.models.deletion
from django.db import migrations, models

# Must match Django's icontains on a TextField on PostgreSQL (UPPER(<column>::text) LIKE
# UPPER(%s)), or the planner will not use it; same name as the index it replaces.
SEARCH_INDEX = (
    "CREATE INDEX lead_search_trgm ON leads_lead_search "
    "USING gin ((UPPER(text::text)) gin_trgm_ops)"
)
SEARCH_TEXT = "first_name || ' ' || last_name || ' ' || email"
OLD_INDEX = (
    "CREATE INDEX lead_search_trgm ON leads_lead USING gin "
    f"((UPPER(({SEARCH_TEXT})::text)) gin_trgm_ops)"
)

FORWARDS = [
    "CREATE TABLE leads_lead_search (lead_id bigint PRIMARY KEY, text text NOT NULL)",
    f"INSERT INTO leads_lead_search (lead_id, text) SELECT id, {SEARCH_TEXT} FROM leads_lead",  # noqa: S608 - constant text
    "DROP INDEX IF EXISTS lead_search_trgm",
    SEARCH_INDEX,
    """
    CREATE FUNCTION leads_lead_search_write() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO leads_lead_search (lead_id, text)
        VALUES (NEW.id, NEW.first_name || ' ' || NEW.last_name || ' ' || NEW.email)
        ON CONFLICT (lead_id) DO UPDATE SET text = EXCLUDED.text;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE FUNCTION leads_lead_search_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM leads_lead_search WHERE lead_id = OLD.id;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE FUNCTION leads_lead_search_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        TRUNCATE leads_lead_search;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER leads_lead_search_insert AFTER INSERT ON leads_lead
    FOR EACH ROW EXECUTE FUNCTION leads_lead_search_write()
    """,
    # Only when the text changes: Django's save() sets every column, a score write none of these.
    """
    CREATE TRIGGER leads_lead_search_update AFTER UPDATE OF first_name, last_name, email
    ON leads_lead FOR EACH ROW
    WHEN (OLD.first_name IS DISTINCT FROM NEW.first_name
          OR OLD.last_name IS DISTINCT FROM NEW.last_name
          OR OLD.email IS DISTINCT FROM NEW.email)
    EXECUTE FUNCTION leads_lead_search_write()
    """,
    """
    CREATE TRIGGER leads_lead_search_delete AFTER DELETE ON leads_lead
    FOR EACH ROW EXECUTE FUNCTION leads_lead_search_delete()
    """,
    # `manage.py flush` and the test runner empty tables with TRUNCATE, which fires no row trigger.
    """
    CREATE TRIGGER leads_lead_search_truncate AFTER TRUNCATE ON leads_lead
    FOR EACH STATEMENT EXECUTE FUNCTION leads_lead_search_truncate()
    """,
]

BACKWARDS = [
    "DROP TRIGGER leads_lead_search_truncate ON leads_lead",
    "DROP TRIGGER leads_lead_search_delete ON leads_lead",
    "DROP TRIGGER leads_lead_search_update ON leads_lead",
    "DROP TRIGGER leads_lead_search_insert ON leads_lead",
    "DROP FUNCTION leads_lead_search_truncate()",
    "DROP FUNCTION leads_lead_search_delete()",
    "DROP FUNCTION leads_lead_search_write()",
    "DROP TABLE leads_lead_search",  # drops its lead_search_trgm
    OLD_INDEX,
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in FORWARDS:
            schema_editor.execute(statement)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in BACKWARDS:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0016_lead_email_bounced_at"),
    ]

    operations = [
        migrations.CreateModel(
            name="LeadSearchEntry",
            fields=[
                (
                    "lead",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="leads.lead",
                    ),
                ),
                ("text", models.TextField()),
            ],
            options={
                "db_table": "leads_lead_search",
                "managed": False,
            },
        ),
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
