"""The templates every salesperson starts with (given once, theirs to change or delete)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DefaultTemplate:
    key: str
    name: str
    subject: str
    body: str


DEFAULT_TEMPLATES = (
    DefaultTemplate(
        key="first_touch",
        name="First touch",
        subject="Quick question, {{first_name}}",
        body=(
            "Hi {{first_name}},\n\n"
            "I work with teams like {{company}} and thought a short conversation could be "
            "useful to both of us.\n\n"
            # The link stands alone: without a public page it is empty, and no sentence is
            # left pointing at nothing.
            "Would you have 20 minutes in the next couple of weeks?\n"
            "{{booking_link}}\n\n"
            "Best,\n{{my_name}}"
        ),
    ),
    DefaultTemplate(
        key="follow_up",
        name="Follow-up",
        subject="Following up, {{first_name}}",
        body=(
            "Hi {{first_name}},\n\n"
            "I wanted to follow up on my last note. Is this something worth a short call "
            "for {{company}}?\n\n"
            "If now is not the right time, just say so and I will get back to you later.\n\n"
            "Best,\n{{my_name}}"
        ),
    ),
    DefaultTemplate(
        key="referral_ask",
        name="Referral ask",
        subject="A small favour, {{first_name}}?",
        body=(
            "Hi {{first_name}},\n\n"
            "I am glad working together has gone well. Who else do you know who might "
            "benefit in the same way? An introduction to one or two people would mean a lot.\n\n"
            "Thank you,\n{{my_name}}"
        ),
    ),
    DefaultTemplate(
        key="referrer_thanks",
        name="Thank-you to a referrer",
        subject="Thank you, {{first_name}}",
        body=(
            "Hi {{first_name}},\n\n"
            "Thank you for the introduction. I really appreciate you thinking of me, and I "
            "will take good care of them.\n\n"
            "Best,\n{{my_name}}"
        ),
    ),
)
