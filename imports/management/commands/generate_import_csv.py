"""`manage.py generate_import_csv FILE --rows N`: a realistic CRM export to time imports with.

python manage.py generate_import_csv /tmp/100k.csv --rows 100000
python manage.py import_leads /tmp/100k.csv --owner sam --json

Generic CSV columns (name, email, company, website, job title, phone, LinkedIn, lead source,
created date, notes), names with accents, people sharing companies, and — by default — about
2 % rows repeating an earlier person (same email in other case, or same LinkedIn profile with
no email) and about 0.5 % bad rows (an invalid email, an unreadable date, neither name nor
email). The same seed gives the same file.
"""

from __future__ import annotations

import csv
import random
import unicodedata
from pathlib import Path

from django.core.management.base import BaseCommand, CommandParser

FIRST_NAMES = (
    "Zoë", "José", "Ana", "Björn", "Chloé", "Émile", "Łukasz", "Søren", "Ines", "Noémie",
    "Grace", "Ada", "Hedy", "Alan", "Margaret", "Katherine", "Dorothy", "Mary", "Frances",
    "Jürgen", "François", "Álvaro", "Siobhán", "Nuño", "Oğuz", "Dağ", "Åsa", "Pål", "Mette",
    "Kateřina",
)  # fmt: skip
LAST_NAMES = (
    "Müller", "García", "O'Brien", "Nørgaard", "Dubois", "Kowalski", "Łęcka", "Hopper",
    "Lovelace", "Lamarr", "Turing", "Hamilton", "Johnson", "Vaughan", "Jackson", "Allen",
    "Smith", "Jones", "Brontë", "Žižek", "Çelik", "Fernández", "Ó Súilleabháin", "Lindqvist",
    "van der Berg", "de la Cruz", "Nakamura", "Rossi", "Novák", "Schäfer",
)  # fmt: skip
COMPANY_WORDS = (
    "Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark", "Wayne", "Tyrell",
    "Cyberdyne", "Soylent", "Monarch", "Nordlys", "Aurora", "Kéfir", "Brücke", "Café", "Orion",
    "Zephyr", "Halcyon",
)  # fmt: skip
COMPANY_KINDS = ("GmbH", "Ltd", "SAS", "Inc", "BV", "AB", "Labs", "Software", "Group", "")
TITLES = (
    "Head of Sales", "VP Sales", "CTO", "Founder", "Sales Manager", "Engineer",
    "Directeur commercial", "Geschäftsführer", "Head of Marketing", "Operations Lead", "",
)  # fmt: skip
SOURCES = ("Referral", "Web", "Trade Show", "Partner Referral", "Cold Call", "Webinar", "")
HEADER = [
    "First Name",
    "Last Name",
    "Email",
    "Company",
    "Website",
    "Job Title",
    "Phone",
    "LinkedIn",
    "Lead Source",
    "Created Date",
    "Notes",
]
BAD_ROWS = (
    lambda row: row.update(Email="not-an-email@"),
    lambda row: row.update({"Created Date": "sometime last spring"}),
    lambda row: row.update({"First Name": "", "Last Name": "", "Email": ""}),
)


class Command(BaseCommand):
    help = "Write a realistic generic CRM CSV export of N people (for timing imports)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--rows", type=int, default=100_000)
        parser.add_argument("--companies", type=int, default=0, help="Default: rows / 8.")
        parser.add_argument("--duplicates", type=float, default=0.02, help="Share of repeats.")
        parser.add_argument("--bad", type=float, default=0.005, help="Share of bad rows.")
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, **options) -> None:
        rows, duplicates, bad = options["rows"], options["duplicates"], options["bad"]
        chance = random.Random(options["seed"])  # noqa: S311 - test data, not secrets
        companies = options["companies"] or max(1, rows // 8)
        company_list = [_company(n, chance) for n in range(companies)]
        file: Path = options["file"]
        people: list[dict[str, str]] = []
        with file.open("w", newline="", encoding="utf-8") as out:
            writer = csv.DictWriter(out, fieldnames=HEADER)
            writer.writeheader()
            for number in range(rows):
                draw = chance.random()
                if people and draw < duplicates:
                    row = _repeat(chance.choice(people), chance)
                else:
                    row = _person(number, chance, chance.choice(company_list))
                    if len(people) < 5000:
                        people.append(row)
                    if draw > 1 - bad:
                        row = dict(row)
                        chance.choice(BAD_ROWS)(row)
                writer.writerow(row)
        self.stdout.write(f"Wrote {rows} rows to {file}.")


def _company(number: int, chance: random.Random) -> tuple[str, str]:
    word = chance.choice(COMPANY_WORDS)
    name = f"{word} {chance.choice(COMPANY_KINDS)} {number}".replace("  ", " ")
    domain = f"{word.lower().replace('é', 'e').replace('ü', 'ue')}{number}.example"
    return name, domain if chance.random() < 0.8 else ""


def _person(number: int, chance: random.Random, company: tuple[str, str]) -> dict[str, str]:
    first, last = chance.choice(FIRST_NAMES), chance.choice(LAST_NAMES)
    name, domain = company
    handle = _ascii(f"{first}.{last}.{number}".lower().replace(" ", "").replace("'", ""))
    return {
        "First Name": first,
        "Last Name": last,
        "Email": f"{handle}@{domain or 'mail.example'}" if chance.random() < 0.9 else "",
        "Company": name,
        "Website": f"https://www.{domain}/" if domain and chance.random() < 0.7 else "",
        "Job Title": chance.choice(TITLES),
        "Phone": f"+44 20 7946 {number % 10000:04d}" if chance.random() < 0.5 else "",
        "LinkedIn": f"linkedin.com/in/{handle.replace('.', '-')}" if chance.random() < 0.6 else "",
        "Lead Source": chance.choice(SOURCES),
        "Created Date": f"2024-{1 + number % 12:02d}-{1 + number % 28:02d}",
        "Notes": "Met at the conference, call back in Q3." if chance.random() < 0.1 else "",
    }


def _ascii(text: str) -> str:
    """What a mail server makes of an accented name: zoë → zoe, łukasz → ukasz."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _repeat(person: dict[str, str], chance: random.Random) -> dict[str, str]:
    """The same person again, as another export would have them."""
    row = dict(person)
    if person["Email"] and chance.random() < 0.5:
        row["Email"] = person["Email"].upper()
        row["Phone"] = row["Phone"] or "+44 20 7946 0000"  # fills a field the first row lacked
    elif person["LinkedIn"]:
        row["Email"] = ""
        row["LinkedIn"] = f"https://www.{person['LinkedIn']}/"
    return row
