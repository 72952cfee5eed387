"""Indexes found with `make bench` (docs/performance.md has the EXPLAIN evidence).

- Lead.owner loses its single-column index: the composite (owner, …) indexes serve every owner
  query, and each index costs time on every rescoring UPDATE.
- (stage, -total_score, -id): a manager's list filtered by stage and the pipeline's columns
  read their best leads straight from it instead of sorting the whole stage.
- PostgreSQL only: pg_trgm and two trigram GIN indexes for the lead search, over exactly the
  expressions `leads.selectors.lead_search` filters on. SQLite has no trigram indexes; there
  the search scans (fine at a salesperson's size, see docs/performance.md).
"""

from __future__ import annotations

import django.db.models.deletion
from django.conf import settings
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

# Must match leads.selectors.LeadSearchText and Django's icontains on PostgreSQL
# (UPPER(<expression>::text) LIKE UPPER(%s)), or the planner will not use them.
TRIGRAM_INDEXES = {
    "lead_search_trgm": (
        "leads_lead",
        "(UPPER((first_name || ' ' || last_name || ' ' || email)::text)) gin_trgm_ops",
    ),
    "company_name_trgm": ("leads_company", "(UPPER(name::text)) gin_trgm_ops"),
}


def create_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, (table, expression) in TRIGRAM_INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({expression})"
        )


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in TRIGRAM_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0005_leadmerge"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="lead",
            name="owner",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="leads",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(fields=["stage", "-total_score", "-id"], name="lead_stage_score"),
        ),
        # CREATE EXTENSION on PostgreSQL only (the operation skips other databases); pg_trgm
        # is a trusted extension, so the database owner may create it without superuser.
        TrigramExtension(),
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes, elidable=False),
    ]
