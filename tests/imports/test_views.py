from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from imports import services
from imports.models import ImportJob
from leads.models import Lead
from tests.factories import LeadFactory, UserFactory
from tests.imports.conftest import csv_text, fixture_bytes
from tests.imports.test_services import generated_csv

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def upload(client, name: str, data: bytes, **fields):
    form = {"format": "auto", "source": "", "duplicates": "fill_empty", **fields}
    return client.post(reverse("import-start"), {**form, "file": SimpleUploadedFile(name, data)})


def html(response) -> str:
    return response.content.decode()


def test_the_import_page_offers_upload_and_exports(sam_client):
    page = html(sam_client.get(reverse("import-start")))

    assert "<title>Import leads · LeadHunter</title>" in page
    assert 'type="file"' in page
    assert 'name="format"' in page
    assert 'name="source"' in page
    assert reverse("lead-export-csv") in page
    assert reverse("account-export") in page


def test_the_lead_list_links_to_import_and_exports_with_its_filters(sam_client):
    page = html(sam_client.get(reverse("lead-list"), {"stage": "won"}))

    assert f'href="{reverse("import-start")}"' in page
    assert f'href="{reverse("lead-export-csv")}?stage=won' in page
    assert f'href="{reverse("lead-export-json")}?stage=won' in page


def test_linkedin_upload_goes_straight_to_the_preview_then_imports(sam_client, salesperson):
    response = upload(sam_client, "Connections.csv", fixture_bytes("linkedin_connections.csv"))
    job = ImportJob.objects.get()
    assert response.url == reverse("import-preview", args=[job.pk])

    preview = html(sam_client.get(response.url))
    assert "Ada" in preview
    assert "LinkedIn connection since 2021-03-12" in preview
    assert preview.count("New lead") == 3
    assert Lead.objects.count() == 0

    response = sam_client.post(reverse("import-run", args=[job.pk]))
    assert response.url == reverse("import-detail", args=[job.pk])
    result = html(sam_client.get(response.url))
    assert '<dd data-count="created">3</dd>' in result
    assert "Done" in result
    assert "hx-trigger" not in result
    assert Lead.objects.filter(owner=salesperson).count() == 3


def test_a_generic_csv_asks_about_its_columns_then_previews_and_imports(sam_client, salesperson):
    data = csv_text(
        "Full name,E-mail,Employer,Fav colour,Mobile", "Ada Lovelace,ada@x.example,Engines,green,"
    )
    response = upload(sam_client, "export.csv", data.encode())
    job = ImportJob.objects.get()
    assert response.url == reverse("import-mapping", args=[job.pk])

    mapping = html(sam_client.get(response.url))
    assert "What is in each column?" in mapping
    assert '<option value="email" selected>' in mapping
    assert "green" in mapping  # a sample value beside the column

    response = sam_client.post(
        response.url,
        {
            "column_0": "full_name",
            "column_1": "email",
            "column_2": "company_name",
            "column_3": "notes",
            "column_4": "ignore",
        },
    )
    assert response.url == reverse("import-preview", args=[job.pk])
    assert "Change columns" in html(sam_client.get(response.url))

    sam_client.post(reverse("import-run", args=[job.pk]))
    lead = Lead.objects.get(owner=salesperson)
    assert (lead.first_name, lead.company.name, lead.notes) == ("Ada", "Engines", "green")


def test_a_mapping_without_name_or_email_is_sent_back(sam_client):
    upload(sam_client, "export.csv", csv_text("A,B", "ada@x.example,Ada").encode())
    job = ImportJob.objects.get()

    response = sam_client.post(
        reverse("import-mapping", args=[job.pk]), {"column_0": "ignore", "column_1": "notes"}
    )

    assert response.status_code == 422
    assert "Choose which column holds the name or the email address." in html(response)


def test_the_preview_marks_duplicates_and_errors(sam_client, salesperson):
    LeadFactory(
        owner=salesperson, first_name="Known", last_name="Person", email="known@x.example", phone=""
    )
    upload(
        sam_client,
        "contacts.csv",
        csv_text(
            "Name,Email,Phone",
            "Known Person,known@x.example,+44 20 7946 0958",
            "Broken,broken@,",
            "New,new@x.example,",
            "New,NEW@x.example,",
        ).encode(),
    )
    job = ImportJob.objects.get()

    preview = html(sam_client.get(reverse("import-preview", args=[job.pk])))

    assert "Fills in" in preview
    assert "Known Person</a>: phone" in preview
    assert "“broken@” is not a valid email address." in preview
    assert "Duplicate" in preview
    assert "of row 4" in preview


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00", "isn&#x27;t a CSV or vCard"),
        (b"PK\x03\x04\x14\x00", "Excel workbook"),
        (b"", "The submitted file is empty."),
    ],
)
def test_a_file_that_is_not_text_is_refused_on_the_form(sam_client, data, message):
    response = upload(sam_client, "contacts.xlsx", data)

    assert response.status_code == 422
    assert message in html(response)
    assert not ImportJob.objects.exists()


def test_a_file_over_the_size_limit_is_refused_before_reading(sam_client, settings):
    settings.IMPORT_MAX_BYTES = 1024 * 1024
    response = upload(sam_client, "big.csv", b"Email\n" + b"a@example.com\n" * 100_000)

    assert response.status_code == 422
    assert "imports take up to 1 MB" in html(response)


def test_another_salespersons_import_is_not_found(client_of, salesperson, other_salesperson):
    job = services.import_job_create(
        owner=other_salesperson, data=fixture_bytes("hubspot.csv"), filename="theirs.csv"
    )
    client = client_of(salesperson)

    for name in ("import-detail", "import-mapping", "import-preview", "import-errors-csv"):
        assert client.get(reverse(name, args=[job.pk])).status_code == 404, name
    assert client.post(reverse("import-run", args=[job.pk])).status_code == 404
    assert Lead.objects.count() == 0


def test_errors_are_listed_after_the_import_and_downloadable_safely(sam_client):
    upload(sam_client, "c.csv", csv_text("Name,Email", "Ada,ada@x.example", "=cmd,bad@").encode())
    job = ImportJob.objects.get()
    sam_client.post(reverse("import-run", args=[job.pk]))

    result = html(sam_client.get(reverse("import-detail", args=[job.pk])))
    assert '<dd data-count="errors">1</dd>' in result
    assert "“bad@” is not a valid email address." in result

    report = sam_client.get(reverse("import-errors-csv", args=[job.pk])).content.decode()
    assert report.splitlines() == [
        "Row,Column,Problem",
        "3,Email,“bad@” is not a valid email address.",
    ]


def test_a_large_upload_runs_in_the_background_with_a_polled_progress_region(
    sam_client, django_capture_on_commit_callbacks, monkeypatch
):
    from imports import tasks

    queued = []
    monkeypatch.setattr(tasks.run_import, "delay", queued.append)
    upload(sam_client, "big.csv", generated_csv(services.SYNC_ROW_LIMIT + 10))
    job = ImportJob.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        response = sam_client.post(reverse("import-run", args=[job.pk]))
    assert queued == [str(job.pk)]

    page = html(sam_client.get(response.url))
    assert 'hx-trigger="every 1s"' in page
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page
    assert "Waiting for the background worker" in page

    partial = html(sam_client.get(response.url, headers=HTMX))
    assert partial.lstrip().startswith('<section id="import-progress"')
    assert "<html" not in partial

    tasks.run_import(str(job.pk))

    done = html(sam_client.get(response.url, headers=HTMX))
    assert "hx-trigger" not in done
    assert f'<dd data-count="created">{services.SYNC_ROW_LIMIT + 10}</dd>' in done


def test_running_an_import_twice_imports_once(sam_client):
    upload(sam_client, "c.csv", fixture_bytes("hubspot.csv"))
    job = ImportJob.objects.get()
    run_url = reverse("import-run", args=[job.pk])

    sam_client.post(run_url)
    sam_client.post(run_url)

    assert Lead.objects.count() == 2


def test_a_finished_import_no_longer_shows_its_preview(sam_client):
    upload(sam_client, "c.csv", fixture_bytes("linkedin_connections.csv"))
    job = ImportJob.objects.get()
    sam_client.post(reverse("import-run", args=[job.pk]))

    response = sam_client.get(reverse("import-preview", args=[job.pk]))

    assert response.url == reverse("import-detail", args=[job.pk])


def test_imports_are_read_only_in_the_admin_for_superusers(client_of, salesperson, manager):
    """Imports are personal work in progress: support (a superuser) can look, managers can't."""
    job = services.import_job_create(
        owner=salesperson, data=fixture_bytes("hubspot.csv"), filename="hubspot.csv"
    )
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = client_of(admin)

    changelist = client.get(reverse("admin:imports_importjob_changelist"))

    assert changelist.status_code == 200
    assert "hubspot.csv" in html(changelist)
    assert client.get(reverse("admin:imports_importjob_change", args=[job.pk])).status_code == 200
    assert client.get(reverse("admin:imports_importjob_add")).status_code == 403
    client.force_login(manager)
    assert client.get(reverse("admin:imports_importjob_changelist")).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("imports", [1, 12])
def test_the_import_page_needs_the_same_queries_for_1_or_12_past_imports(
    sam_client, salesperson, django_assert_num_queries, imports
):
    for index in range(imports):
        services.import_job_create(
            owner=salesperson, data=fixture_bytes("hubspot.csv"), filename=f"list-{index}.csv"
        )

    with django_assert_num_queries(3):
        response = sam_client.get(reverse("import-start"))

    assert response.content.decode().count("list-") == min(imports, 10)
