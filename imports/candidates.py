"""From a record (a row's text by target) to a candidate lead: normalised the way the lead
services normalise, and checked the way they check, so the preview shows the errors the
import will meet — without touching the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from django.core.exceptions import ValidationError

from imports.columns import Target, squash
from imports.models import ImportFormat
from imports.parsing import RawRecord
from leads.models import Company, Lead, Source
from leads.normalize import (
    normalize_domain,
    normalize_email,
    normalize_linkedin_url,
    normalize_phone,
)
from leads.services import check_email, passes_clean

# Google joins several values of one field with " ::: ".
MULTI_VALUE_SEPARATOR = ":::"
DATE_FORMATS = (
    "%d %b %Y",  # LinkedIn: 12 Mar 2021
    "%d %B %Y",
    "%b %d, %Y",
    "%B %d, %Y",
    "%d-%b-%Y",
    "%d-%b-%y",
    "%d.%m.%Y",
    "%Y/%m/%d",
    "%m/%d/%Y",  # Salesforce and HubSpot in US locale
    "%d/%m/%Y",  # the rest of the world, when the day can't be a month
)
# Words other tools use for a lead's origin, squashed, mapped to our sources.
SOURCE_WORDS = {
    Source.REFERRAL: (
        "referral",
        "referrals",
        "referred",
        "customerreferral",
        "partnerreferral",
        "employeereferral",
        "wordofmouth",
    ),
    Source.OWN_NETWORK: ("ownnetwork", "network", "personalnetwork", "linkedin", "friend"),
    Source.HAND_RAISER: ("handraiser", "inbound", "contactform", "webform", "demorequest"),
    Source.ICP_PROSPECTING: ("icpprospecting", "prospecting", "outbound", "coldcall"),
    Source.MARKETING: (
        "marketing",
        "organicsearch",
        "paidsearch",
        "directtraffic",
        "emailmarketing",
        "socialmedia",
        "organicsocial",
        "paidsocial",
        "advertisement",
        "campaign",
    ),
    Source.EVENT: ("event", "events", "tradeshow", "conference", "webinar", "seminar", "meetup"),
    Source.OTHER: ("other",),
}
SOURCE_BY_WORD = {word: source for source, words in SOURCE_WORDS.items() for word in words}
# Our own sources, by value or label, squashed: a row naming one is taken as it is.
OWN_SOURCES = {
    **{squash(source.label): source.value for source in reversed(Source)},
    **{value: value for value in Source.values},
}
# Where leads of each format come from, unless the row or the person says otherwise.
FORMAT_SOURCES = {
    ImportFormat.LINKEDIN: Source.OWN_NETWORK,
    ImportFormat.GOOGLE: Source.OWN_NETWORK,
    ImportFormat.VCARD: Source.OWN_NETWORK,
    ImportFormat.CSV: Source.OTHER,
}
FORMAT_ORIGINS = {
    ImportFormat.LINKEDIN: "LinkedIn connection",
    ImportFormat.GOOGLE: "Google Contacts",
    ImportFormat.VCARD: "vCard",
    ImportFormat.CSV: "CSV import",
}
# The lead fields a candidate sets, and the target whose column they came from.
LEAD_FIELD_TARGETS = {
    "first_name": Target.FIRST_NAME,
    "last_name": Target.LAST_NAME,
    "email": Target.EMAIL,
    "phone": Target.PHONE,
    "linkedin_url": Target.LINKEDIN,
    "title": Target.TITLE,
    "notes": Target.NOTES,
    "company": Target.COMPANY,
    "source": Target.SOURCE,
    "source_detail": Target.SOURCE,
}
SOURCE_DETAIL_MAX = Lead._meta.get_field("source_detail").max_length


@dataclass(frozen=True)
class RowError:
    """A problem with one row, in the words and column names of the person's file."""

    row: int
    field: str
    reason: str

    def as_dict(self) -> dict[str, object]:
        return {"row": self.row, "field": self.field, "reason": self.reason}


@dataclass(frozen=True)
class Candidate:
    """A row as the lead it would become."""

    row: int
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    phone: str = ""
    linkedin_url: str = ""
    title: str = ""
    notes: str = ""
    company_name: str = ""
    company_domain: str = ""
    source: str = Source.OTHER
    source_detail: str = ""
    added_on: date | None = None
    columns: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.email

    @property
    def source_label(self) -> str:
        return Source(self.source).label

    @property
    def has_company(self) -> bool:
        return bool(self.company_name or self.company_domain)

    def lead_values(self) -> dict[str, object]:
        """The lead fields to create it with (its company is found or created separately)."""
        return {
            "first_name": self.first_name,
            "last_name": self.last_name,
            "email": self.email,
            "phone": self.phone,
            "linkedin_url": self.linkedin_url,
            "title": self.title,
            "notes": self.notes,
            "source": self.source,
            "source_detail": self.source_detail,
        }

    def column_of(self, lead_field: str) -> str:
        """The file's column a lead field came from, for error reports."""
        target = LEAD_FIELD_TARGETS.get(lead_field)
        return self.columns.get(target, lead_field) if target else ""


@dataclass(frozen=True)
class CandidateContext:
    """What every row of one file shares: its format and the source chosen for it."""

    format: str
    source: str = ""

    @property
    def default_source(self) -> str:
        return self.source or FORMAT_SOURCES.get(self.format, Source.OTHER)

    @property
    def origin(self) -> str:
        return FORMAT_ORIGINS.get(self.format, "Import")


def build_candidate(record: RawRecord, context: CandidateContext) -> Candidate | list[RowError]:
    """The candidate lead for a record, or every reason the row can't be imported."""
    if record.problem:
        return [RowError(record.row, "", record.problem)]
    values, where = record.values, record.columns
    errors: list[RowError] = []

    def error(target: Target, reason: str) -> None:
        errors.append(RowError(record.row, where.get(target, target.label), reason))

    first_name, last_name = _names(values)
    raw_email = _first_value(values.get(Target.EMAIL, ""))
    email = normalize_email(raw_email)
    linkedin_url, website = _profile_and_website(values)
    source, source_text = _source(values.get(Target.SOURCE, ""), context)
    added_on = None
    if values.get(Target.ADDED_ON):
        try:
            added_on = parse_date(values[Target.ADDED_ON])
        except ValueError:
            error(
                Target.ADDED_ON,
                f"Can't read the date “{values[Target.ADDED_ON]}” "
                "(write it like 2024-03-31 or 31 Mar 2024).",
            )
    if not (first_name or last_name or email):
        errors.append(
            RowError(record.row, "Name / Email", "No name and no email address: a lead needs one.")
        )
    if email:
        try:
            check_email(email)
        except ValidationError:
            error(Target.EMAIL, f"“{raw_email}” is not a valid email address.")
            email = ""
    candidate = Candidate(
        row=record.row,
        first_name=first_name,
        last_name=last_name,
        email=email,
        phone=normalize_phone(_first_value(values.get(Target.PHONE, ""))),
        linkedin_url=normalize_linkedin_url(linkedin_url),
        title=_one_line(values.get(Target.TITLE, "")),
        notes=values.get(Target.NOTES, "").strip(),
        company_name=_one_line(values.get(Target.COMPANY, "")),
        company_domain=normalize_domain(website),
        source=source,
        source_detail=_source_detail(source_text or context.origin, added_on, context),
        added_on=added_on,
        columns=dict(where),
    )
    errors += _field_errors(candidate)
    return errors or candidate


def parse_date(text: str) -> date:
    """A date as other tools write it: ISO (with or without a time), LinkedIn's "12 Mar 2021",
    US and European numeric dates. Raises ValueError for anything else."""
    text = text.strip()
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        pass
    day = text.split(" ")[0] if "/" in text or "." in text else text
    for date_format in DATE_FORMATS:
        try:
            return datetime.strptime(day, date_format).date()  # noqa: DTZ007 - a date, no time
        except ValueError:
            continue
    raise ValueError(text)


def split_full_name(name: str) -> tuple[str, str]:
    """'Smith, Jane' → ('Jane', 'Smith'); 'Mary Ann Smith' → ('Mary Ann', 'Smith')."""
    name = _one_line(name)
    if "," in name:
        last, _, first = name.partition(",")
        return first.strip(), last.strip()
    first, _, last = name.rpartition(" ")
    return (first, last) if first else (last, "")


def _names(values: dict[str, str]) -> tuple[str, str]:
    first = _one_line(values.get(Target.FIRST_NAME, ""))
    last = _one_line(values.get(Target.LAST_NAME, ""))
    if not (first or last) and values.get(Target.FULL_NAME):
        first, last = split_full_name(values[Target.FULL_NAME])
    return first, last


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _first_value(text: str) -> str:
    return text.split(MULTI_VALUE_SEPARATOR, 1)[0].strip()


def _profile_and_website(values: dict[str, str]) -> tuple[str, str]:
    """People paste their LinkedIn profile into a "Website" field and vice versa."""
    profile = _first_value(values.get(Target.LINKEDIN, ""))
    website = _first_value(values.get(Target.DOMAIN, ""))
    if "linkedin.com/" in website.lower():
        profile, website = profile or website, ""
    return profile, website


def _source(text: str, context: CandidateContext) -> tuple[str, str]:
    """The row's own lead source when it names one of ours; else the default, keeping the
    row's words as detail."""
    text = _one_line(text)
    if not text:
        return context.default_source, ""
    word = squash(text)
    if word in OWN_SOURCES:
        return OWN_SOURCES[word], ""
    if word in SOURCE_BY_WORD:
        return SOURCE_BY_WORD[word], text
    return context.default_source, text


def _source_detail(origin: str, added_on: date | None, context: CandidateContext) -> str:
    if added_on is None:
        detail = origin
    elif context.format == ImportFormat.LINKEDIN:
        detail = f"{origin} since {_day(added_on)}"
    else:
        detail = f"{origin}, added {_day(added_on)}"
    return detail[:SOURCE_DETAIL_MAX]


def _day(day: date) -> str:
    # isoformat is strftime("%Y-%m-%d") at a fraction of the cost, for four-digit years.
    return day.isoformat() if day.year >= 1000 else f"{day:%Y-%m-%d}"


# The model fields a candidate fills, checked as the services will check them: only values
# that `passes_clean` can't answer for go through the field's validators.
FIELD_CHECKS = (
    *((Lead, name, name) for name in ("first_name", "last_name", "title", "phone", "linkedin_url")),
    (Company, "name", "company_name"),
    (Company, "domain", "company_domain"),
)


def _field_errors(candidate: Candidate) -> list[RowError]:
    """Length and format checks of the model fields, as the lead services will run them."""
    errors = []
    for model, name, attribute in FIELD_CHECKS:
        value = getattr(candidate, attribute)
        model_field = model._meta.get_field(name)
        if not value or passes_clean(model, name, value):
            continue
        try:
            model_field.clean(value, None)
        except ValidationError as problem:
            column = candidate.column_of("company" if model is Company else name)
            if model is Company and name == "domain":
                column = candidate.columns.get(Target.DOMAIN, "Company website")
            errors.append(RowError(candidate.row, column, " ".join(problem.messages)))
    return errors
