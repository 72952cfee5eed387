"""Issue 20 (import): the search text of inserted and deleted leads is written once per
statement instead of once per row (PostgreSQL only; docs/performance.md, section 22).

A row trigger runs its function and an INSERT for each lead: in a 20,000-lead INSERT it was
60 µs a row of the 105 µs the row cost, against 30 µs as one INSERT … SELECT from the
statement's transition table. An import writes its leads by COPY, 1,000 to a statement. The
update trigger stays a row trigger: a trigger with a column list (UPDATE OF …) can't have a
transition table, and that list is what keeps a score write from firing it.
"""

from django.db import migrations

FORWARDS = [
    """
    CREATE FUNCTION leads_lead_search_insert_rows() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO leads_lead_search (lead_id, text)
        SELECT id, first_name || ' ' || last_name || ' ' || email FROM inserted_leads
        ON CONFLICT (lead_id) DO UPDATE SET text = EXCLUDED.text;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE FUNCTION leads_lead_search_delete_rows() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM leads_lead_search WHERE lead_id IN (SELECT id FROM deleted_leads);
        RETURN NULL;
    END
    $$
    """,
    "DROP TRIGGER leads_lead_search_insert ON leads_lead",
    """
    CREATE TRIGGER leads_lead_search_insert AFTER INSERT ON leads_lead
    REFERENCING NEW TABLE AS inserted_leads
    FOR EACH STATEMENT EXECUTE FUNCTION leads_lead_search_insert_rows()
    """,
    "DROP TRIGGER leads_lead_search_delete ON leads_lead",
    """
    CREATE TRIGGER leads_lead_search_delete AFTER DELETE ON leads_lead
    REFERENCING OLD TABLE AS deleted_leads
    FOR EACH STATEMENT EXECUTE FUNCTION leads_lead_search_delete_rows()
    """,
    "DROP FUNCTION leads_lead_search_delete()",
]

# As migration 0017 made them.
BACKWARDS = [
    """
    CREATE FUNCTION leads_lead_search_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM leads_lead_search WHERE lead_id = OLD.id;
        RETURN NULL;
    END
    $$
    """,
    "DROP TRIGGER leads_lead_search_delete ON leads_lead",
    """
    CREATE TRIGGER leads_lead_search_delete AFTER DELETE ON leads_lead
    FOR EACH ROW EXECUTE FUNCTION leads_lead_search_delete()
    """,
    "DROP TRIGGER leads_lead_search_insert ON leads_lead",
    """
    CREATE TRIGGER leads_lead_search_insert AFTER INSERT ON leads_lead
    FOR EACH ROW EXECUTE FUNCTION leads_lead_search_write()
    """,
    "DROP FUNCTION leads_lead_search_delete_rows()",
    "DROP FUNCTION leads_lead_search_insert_rows()",
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
        ("leads", "0021_lead_furthest_stage"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
