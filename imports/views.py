"""Import pages (upload → mapping → preview → import → progress and result) and exports.

Each view validates a form and makes one service or engine call; the flow's state lives in the
ImportJob, so every step is a plain page that works without JavaScript.
"""

from __future__ import annotations

import csv
import tempfile
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.http import AuthenticatedHttpRequest
from accounts.models import User
from imports import exports, selectors, services
from imports.decoding import ImportFileError
from imports.forms import ImportRunForm, MappingForm, UploadForm
from imports.models import ImportJob, ImportStatus
from imports.parsing import needs_mapping
from imports.spreadsheet import neutralise
from leadhunter.htmx import render_region
from leads.forms import LeadFilterForm
from leads.selectors import leads_filtered, leads_visible_to, network_pool

ERRORS_SHOWN = 200


def _job_for(request: AuthenticatedHttpRequest, pk: UUID) -> ImportJob:
    return get_object_or_404(selectors.import_jobs_visible_to(request.user), pk=pk)


def _after_upload(job: ImportJob) -> HttpResponse:
    if needs_mapping(job.format, job.headers, job.mapping):
        return redirect("import-mapping", pk=job.pk)
    return redirect("import-preview", pk=job.pk)


def _file_gone(request: AuthenticatedHttpRequest, error: ImportFileError) -> HttpResponse:
    messages.error(request, str(error))
    return redirect("import-start")


@require_http_methods(["GET", "POST"])
def import_start(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = services.import_job_create(
                owner=request.user,
                data=upload.read(),
                filename=upload.name,
                format=form.cleaned_data["format"],
                source=form.cleaned_data["source"],
                duplicates=form.cleaned_data["duplicates"],
                referred_by=form.cleaned_data["referred_by"],
            )
        except ValidationError as error:
            if "referred_by" in error.message_dict:
                form.add_error("referred_by", error.message_dict["referred_by"])
            else:
                for message in error.message_dict.get("file", error.messages):
                    form.add_error("file", message)
        else:
            return _after_upload(job)
    context = {
        "title": "Import leads",
        "form": form,
        "jobs": selectors.import_jobs_visible_to(request.user)[:10],
    }
    return render(request, "imports/import_start.html", context, status=422 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def import_mapping(request: AuthenticatedHttpRequest, pk: UUID) -> HttpResponse:
    job = _job_for(request, pk)
    if job.status != ImportStatus.UPLOADED:
        return redirect("import-detail", pk=job.pk)
    try:
        samples = services.import_job_parsed(job).samples()
    except ImportFileError as error:
        return _file_gone(request, error)
    form = MappingForm(
        request.POST or None, headers=job.headers, mapping=job.mapping, samples=samples
    )
    if request.method == "POST" and form.is_valid():
        services.import_job_set_mapping(job=job, mapping=form.cleaned_data["mapping"])
        return redirect("import-preview", pk=job.pk)
    context = {"title": "Import leads: columns", "job": job, "form": form}
    return render(
        request, "imports/import_mapping.html", context, status=422 if form.errors else 200
    )


@require_GET
def import_preview(request: AuthenticatedHttpRequest, pk: UUID) -> HttpResponse:
    job = _job_for(request, pk)
    if job.status != ImportStatus.UPLOADED:
        return redirect("import-detail", pk=job.pk)
    return _preview_page(request, job, _run_form(request, job))


def _run_form(request: AuthenticatedHttpRequest, job: ImportJob) -> ImportRunForm:
    return ImportRunForm(
        request.POST if request.method == "POST" else None,
        job=job,
        reconnects_per_day=request.user.reconnects_per_day,
    )


def _preview_page(
    request: AuthenticatedHttpRequest, job: ImportJob, form: ImportRunForm, *, status: int = 200
) -> HttpResponse:
    try:
        rows = services.import_job_preview(job)
    except ImportFileError as error:
        return _file_gone(request, error)
    refs = {row.duplicate_of.ref for row in rows if row.duplicate_of}
    leads = leads_visible_to(request.user).in_bulk([ref for ref in refs if ref > 0])
    context = {
        "title": "Import leads: preview",
        "job": job,
        "rows": [
            (row, leads.get(row.duplicate_of.ref) if row.duplicate_of else None) for row in rows
        ],
        "runs_in_background": job.total_rows > services.SYNC_ROW_LIMIT,
        "form": form,
    }
    return render(request, "imports/import_preview.html", context, status=status)


@require_POST
def import_run(request: AuthenticatedHttpRequest, pk: UUID) -> HttpResponse:
    job = _job_for(request, pk)
    form = _run_form(request, job)
    if job.status == ImportStatus.UPLOADED and not form.is_valid():
        return _preview_page(request, job, form, status=422)
    choices = form.cleaned_data if form.is_valid() else {}  # started already: nothing to set
    try:
        job = services.import_job_start(
            job=job, tags=choices.get("tags"), first_touch=choices.get("first_touch") or None
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("import-mapping", pk=job.pk)
    return redirect("import-detail", pk=job.pk)


@require_GET
def import_detail(request: AuthenticatedHttpRequest, pk: UUID) -> HttpResponse:
    """Progress while the import runs (htmx polls the region), then the result."""
    job = _job_for(request, pk)
    if job.status == ImportStatus.UPLOADED:
        return redirect("import-preview", pk=job.pk)
    context = {
        "title": f"Import of {job.filename}",
        "job": job,
        "errors_shown": job.error_rows[:ERRORS_SHOWN],
        # What happens next to the leads it added to the network pool: the plan as it stands.
        "pool": (
            network_pool(job.owner)
            if job.status == ImportStatus.DONE and job.into_network_pool and job.created
            else None
        ),
    }
    return render_region(request, "imports/import_detail.html", "import-progress", context)


@require_GET
def import_errors_csv(request: AuthenticatedHttpRequest, pk: UUID) -> HttpResponse:
    job = _job_for(request, pk)
    response = HttpResponse(
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="import-errors.csv"'},
    )
    writer = csv.writer(response)
    writer.writerow(["Row", "Column", "Problem"])
    for error in job.error_rows:
        writer.writerow(
            [neutralise(error["row"]), neutralise(error["field"]), neutralise(error["reason"])]
        )
    return response


# --- Exports -------------------------------------------------------------------------------


def _filtered_leads(request: AuthenticatedHttpRequest):
    """The lead list's rows for the same filters: the export is what the list shows."""
    owners = User.objects.filter(is_active=True) if request.user.is_manager else None
    form = LeadFilterForm(request.GET or None, owners=owners)
    filters = form.cleaned_data if form.is_valid() else {}
    return leads_filtered(request.user, filters)


def _attachment_name(extension: str) -> str:
    return f"leads-{timezone.localdate():%Y-%m-%d}.{extension}"


@require_GET
def lead_export_csv(request: AuthenticatedHttpRequest) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        exports.lead_csv_chunks(_filtered_leads(request)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{_attachment_name("csv")}"'
    return response


@require_GET
def lead_export_json(request: AuthenticatedHttpRequest) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        exports.lead_json_chunks(_filtered_leads(request)), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="{_attachment_name("json")}"'
    return response


@require_GET
def account_export(request: AuthenticatedHttpRequest) -> FileResponse:
    """All of the person's own records as one zip: built in a temporary file, not in memory."""
    archive = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it when sent
    exports.write_account_zip(selectors.account_records(request.user), archive)
    archive.seek(0)
    filename = f"leadhunter-{request.user.username}-{timezone.localdate():%Y-%m-%d}.zip"
    return FileResponse(archive, as_attachment=True, filename=filename)
