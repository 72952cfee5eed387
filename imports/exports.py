"""Exports: the lead list as CSV or JSON (streamed, so 100,000 leads never sit in memory) and
a person's whole account as a zip of CSV and JSON files (data portability).

CSV cells pass through `spreadsheet.neutralise`, so the files are safe to open in Excel; the
importer reads them back unchanged (the headers are ones it recognises).
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import IO

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Model, QuerySet
from django.utils import timezone

from leadhunter.spreadsheet import csv_lines, records_csv_lines
from leads.models import Lead

CHUNK_SIZE = 2000
# Columns never exported: internal keys, not the person's data.
INTERNAL_FIELDS = {"link_key"}

LEAD_COLUMNS: list[tuple[str, Callable[[Lead], object]]] = [
    ("ID", lambda lead: lead.pk),
    ("First name", lambda lead: lead.first_name),
    ("Last name", lambda lead: lead.last_name),
    ("Email", lambda lead: lead.email),
    ("Phone", lambda lead: lead.phone),
    ("LinkedIn URL", lambda lead: lead.linkedin_url),
    ("Job title", lambda lead: lead.title),
    ("Seniority", lambda lead: lead.seniority),
    ("Company", lambda lead: lead.company.name if lead.company else ""),
    ("Company domain", lambda lead: lead.company.domain if lead.company else ""),
    ("Stage", lambda lead: lead.stage),
    ("Lead source", lambda lead: lead.source),
    ("Source detail", lambda lead: lead.source_detail),
    ("Expected value", lambda lead: lead.expected_value),
    ("Currency", lambda lead: lead.currency),
    ("Do not contact", lambda lead: "yes" if lead.do_not_contact else "no"),
    ("Tags", lambda lead: ", ".join(lead.tags)),
    ("Grade", lambda lead: lead.grade),
    ("Total score", lambda lead: lead.total_score),
    ("Fit score", lambda lead: lead.fit_score),
    ("Intent score", lambda lead: lead.intent_score),
    ("Next follow-up", lambda lead: _when(lead.next_follow_up_at)),
    ("Last contacted", lambda lead: _when(lead.last_contacted_at)),
    ("Created", lambda lead: _when(lead.created_at)),
    ("Owner", lambda lead: lead.owner.username),
    ("Notes", lambda lead: lead.notes),
]


def lead_export_rows(leads: QuerySet[Lead]) -> QuerySet[Lead]:
    """The leads to export, with what the columns need joined in, in a stable order."""
    return leads.select_related("company", "owner").order_by("id")


def lead_csv_chunks(leads: QuerySet[Lead]) -> Iterator[str]:
    """The CSV text, a row at a time, every cell neutralised."""
    return records_csv_lines(lead_export_rows(leads).iterator(chunk_size=CHUNK_SIZE), LEAD_COLUMNS)


def lead_json_chunks(leads: QuerySet[Lead]) -> Iterator[str]:
    """{"exported_at": …, "leads": [{…}, …]}, a lead at a time."""
    yield f'{{"exported_at": {json.dumps(timezone.now().isoformat())}, "leads": ['
    separator = ""
    for lead in lead_export_rows(leads).iterator(chunk_size=CHUNK_SIZE):
        yield separator + json.dumps(lead_as_json(lead), cls=DjangoJSONEncoder)
        separator = ", "
    yield "]}\n"


def lead_as_json(lead: Lead) -> dict[str, object]:
    company = lead.company
    return {
        "id": lead.pk,
        "first_name": lead.first_name,
        "last_name": lead.last_name,
        "email": lead.email,
        "phone": lead.phone,
        "linkedin_url": lead.linkedin_url,
        "title": lead.title,
        "seniority": lead.seniority,
        "company": (
            {"id": company.pk, "name": company.name, "domain": company.domain} if company else None
        ),
        "stage": lead.stage,
        "source": lead.source,
        "source_detail": lead.source_detail,
        "expected_value": str(lead.expected_value) if lead.expected_value is not None else None,
        "currency": lead.currency,
        "do_not_contact": lead.do_not_contact,
        "tags": lead.tags,
        "grade": lead.grade,
        "total_score": lead.total_score,
        "fit_score": lead.fit_score,
        "intent_score": lead.intent_score,
        "next_follow_up_at": _when(lead.next_follow_up_at),
        "last_contacted_at": _when(lead.last_contacted_at),
        "created_at": _when(lead.created_at),
        "owner": lead.owner.username,
        "notes": lead.notes,
    }


def write_account_zip(records: dict[str, QuerySet], file: IO[bytes]) -> None:
    """Each kind of record as <name>.csv and <name>.json, every column of the model (ids and
    foreign keys included, so the files can be joined back together)."""
    with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, queryset in records.items():
            fields = _exported_fields(queryset.model)
            with archive.open(f"{name}.csv", "w") as member:
                for chunk in _model_csv_chunks(queryset, fields):
                    member.write(chunk.encode())
            with archive.open(f"{name}.json", "w") as member:
                for chunk in _model_json_chunks(queryset, fields):
                    member.write(chunk.encode())
        archive.writestr("README.txt", _readme(records))


def _exported_fields(model: type[Model]) -> list[str]:
    return [
        field.attname for field in model._meta.concrete_fields if field.name not in INTERNAL_FIELDS
    ]


def _model_csv_chunks(queryset: QuerySet, fields: list[str]) -> Iterator[str]:
    rows = queryset.values_list(*fields).iterator(chunk_size=CHUNK_SIZE)
    return csv_lines(fields, ([_cell(value) for value in row] for row in rows))


def _model_json_chunks(queryset: QuerySet, fields: list[str]) -> Iterator[str]:
    yield "["
    separator = ""
    for row in queryset.values(*fields).iterator(chunk_size=CHUNK_SIZE):
        yield separator + json.dumps(row, cls=DjangoJSONEncoder)
        separator = ",\n"
    yield "]\n"


def _cell(value: object) -> object:
    """A database value as a spreadsheet cell: dates in ISO 8601, lists and dicts as JSON."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | dict):
        return json.dumps(value, cls=DjangoJSONEncoder)
    if isinstance(value, Decimal):
        return str(value)
    return value


def _when(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""


def _readme(records: Iterable[str]) -> str:
    return (
        "Your LeadHunter data, exported "
        f"{timezone.now():%Y-%m-%d %H:%M} UTC.\n\n"
        "Each kind of record is here twice: as CSV (opens in a spreadsheet; text cells that a "
        "spreadsheet would run as a formula start with a ' ) and as JSON. Columns ending in _id "
        "refer to the id column of another file: lead_id to leads, company_id to companies, "
        "source_id to referral_sources, icp_id to icps.\n\nFiles: " + ", ".join(records) + ".\n"
    )
