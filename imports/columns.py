"""What a column of an import can become, and which headers mean what in other tools' exports.

Headers are compared squashed (lower case, letters and digits only), so "E-mail 1 - Value",
"Email Address" and "email_address" are all recognised however a tool spells them.
"""

from __future__ import annotations

import re

from django.db import models


class Target(models.TextChoices):
    IGNORE = "ignore", "Ignore this column"
    FIRST_NAME = "first_name", "First name"
    LAST_NAME = "last_name", "Last name"
    FULL_NAME = "full_name", "Full name (split into first and last)"
    EMAIL = "email", "Email"
    PHONE = "phone", "Phone"
    LINKEDIN = "linkedin_url", "LinkedIn URL"
    COMPANY = "company_name", "Company"
    DOMAIN = "company_domain", "Company website or domain"
    TITLE = "title", "Job title"
    NOTES = "notes", "Notes"
    SOURCE = "lead_source", "Lead source"
    ADDED_ON = "added_on", "Date added or connected"


# Targets several columns may share: their values are joined (notes) or dropped (ignore).
REPEATABLE_TARGETS = frozenset({Target.IGNORE, Target.NOTES})

ALIASES: dict[Target, tuple[str, ...]] = {
    Target.FIRST_NAME: ("firstname", "givenname", "first", "forename", "fname"),
    Target.LAST_NAME: ("lastname", "familyname", "surname", "last", "lname"),
    Target.FULL_NAME: ("name", "fullname", "contactname", "displayname", "personname"),
    Target.EMAIL: (
        "email",
        "emails",
        "emailaddress",
        "primaryemail",
        "primaryemailaddress",
        "workemail",
        "businessemail",
        "email1",
        "email1value",
        "emailwork",
        "emailhome",
        "emailother",
    ),
    Target.PHONE: (
        "phone",
        "phonenumber",
        "telephone",
        "tel",
        "mobile",
        "mobilephone",
        "mobilephonenumber",
        "cellphone",
        "workphone",
        "businessphone",
        "directphone",
        "phone1value",
        "phonework",
        "phonemobile",
        "phonehome",
    ),
    Target.LINKEDIN: (
        "linkedin",
        "linkedinurl",
        "linkedinprofile",
        "linkedinprofileurl",
        "linkedinbio",
    ),
    Target.COMPANY: (
        "company",
        "companyname",
        "companyaccount",
        "account",
        "accountname",
        "organization",
        "organisation",
        "organizationname",
        "organisationname",
        "organization1name",
        "employer",
    ),
    Target.DOMAIN: (
        "website",
        "websiteurl",
        "website1value",
        "companywebsite",
        "companydomain",
        "companydomainname",
        "organizationwebsite",
        "domain",
    ),
    Target.TITLE: (
        "title",
        "jobtitle",
        "position",
        "role",
        "jobrole",
        "designation",
        "organizationtitle",
        "organization1title",
    ),
    Target.NOTES: ("notes", "note", "description", "comments", "comment"),
    Target.SOURCE: ("leadsource", "source", "originalsource", "contactsource"),
    Target.ADDED_ON: (
        "connectedon",
        "createdate",
        "createddate",
        "created",
        "createdat",
        "createdon",
        "datecreated",
        "dateadded",
        "addedon",
        "addtime",
    ),
}
HEADER_TARGETS = {alias: target for target, aliases in ALIASES.items() for alias in aliases}
# "Person - Email - Work" (Pipedrive), "Contact Owner" (HubSpot), "Lead Source" (Salesforce).
ENTITY_PREFIXES = ("person", "contact", "lead")

# Required columns of LinkedIn's header; exports before 2020 had no URL column.
LINKEDIN_HEADER = (
    "firstname",
    "lastname",
    "emailaddress",
    "company",
    "position",
    "connectedon",
)
LINKEDIN_MAPPING = {
    "firstname": Target.FIRST_NAME,
    "lastname": Target.LAST_NAME,
    "url": Target.LINKEDIN,
    "emailaddress": Target.EMAIL,
    "company": Target.COMPANY,
    "position": Target.TITLE,
    "connectedon": Target.ADDED_ON,
}
# Either is enough to tell a Google Contacts export from other CSVs.
GOOGLE_MARKERS = frozenset({"email1value", "organization1name", "organizationname", "givenname"})

_NOT_ALNUM = re.compile(r"[\W_]+")


def squash(header: str) -> str:
    """'E-mail 1 - Value' → 'email1value'."""
    return _NOT_ALNUM.sub("", header.casefold())


def target_for(header: str) -> Target:
    """The target a header obviously means, or IGNORE."""
    key = squash(header)
    if key in HEADER_TARGETS:
        return HEADER_TARGETS[key]
    for prefix in ENTITY_PREFIXES:
        if key.startswith(prefix) and key[len(prefix) :] in HEADER_TARGETS:
            return HEADER_TARGETS[key[len(prefix) :]]
    return Target.IGNORE


def auto_mapping(headers: list[str]) -> list[str]:
    """A target per column; a target already taken by an earlier column is left for the person
    to decide (a second phone column, say), except the repeatable ones."""
    taken: set[str] = set()
    mapping = []
    for header in headers:
        target = target_for(header)
        if target in taken and target not in REPEATABLE_TARGETS:
            target = Target.IGNORE
        taken.add(target)
        mapping.append(target.value)
    return mapping


def linkedin_mapping(headers: list[str]) -> list[str]:
    return [LINKEDIN_MAPPING.get(squash(header), Target.IGNORE).value for header in headers]


def recognised(headers: list[str]) -> int:
    """How many headers mean something: the header row is the row that recognises most."""
    return sum(1 for header in headers if target_for(header) != Target.IGNORE)


def is_linkedin_header(headers: list[str]) -> bool:
    return set(LINKEDIN_HEADER) <= {squash(header) for header in headers}


def is_google_header(headers: list[str]) -> bool:
    return bool(GOOGLE_MARKERS & {squash(header) for header in headers})
