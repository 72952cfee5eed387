"""Issue 20: the lead list's score indexes end in the id and carry the list's filters
(docs/performance.md, section 17.d). Replaces three indexes: no index is added."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("leads", "0018_report_indexes"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='lead',
            name='lead_owner_stage_score',
        ),
        migrations.RemoveIndex(
            model_name='lead',
            name='lead_stage_score',
        ),
        migrations.RemoveIndex(
            model_name='lead',
            name='lead_score',
        ),
        migrations.AddIndex(
            model_name='lead',
            index=models.Index(fields=['owner', 'stage', '-total_score', '-id'], include=('source',), name='lead_owner_stage_score'),
        ),
        migrations.AddIndex(
            model_name='lead',
            index=models.Index(fields=['-total_score', '-id'], include=('company_id',), name='lead_score'),
        ),
        migrations.AddIndex(
            model_name='lead',
            index=models.Index(fields=['stage', '-total_score', '-id'], include=('expected_value', 'source'), name='lead_stage_score'),
        ),
    ]
