from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

if TYPE_CHECKING:
    from accounts.models import User


class Stage(models.TextChoices):
    NEW = "new", "New"
    CONTACTED = "contacted", "Contacted"
    ENGAGED = "engaged", "Engaged"
    QUALIFIED = "qualified", "Qualified"
    PROPOSAL = "proposal", "Proposal"
    WON = "won", "Won"
    LOST = "lost", "Lost"
    NURTURE = "nurture", "Nurture"


OPEN_STAGES = (Stage.NEW, Stage.CONTACTED, Stage.ENGAGED, Stage.QUALIFIED, Stage.PROPOSAL)
CLOSED_STAGES = (Stage.WON, Stage.LOST)
# The way to a sale, in order (Lost and Nurture are off it): the funnel report's steps.
PATH_STAGES = (*OPEN_STAGES, Stage.WON)


def furthest_stage(*stages: str) -> str:
    """The stage furthest along the path among `stages`; "" when none of them is on it."""
    steps = [PATH_STAGES.index(stage) for stage in stages if stage in PATH_STAGES]
    return PATH_STAGES[max(steps)] if steps else ""


# A lead that sits in an open stage longer than this many days is "going cold".
STAGE_LIMIT_DAYS: dict[str, int] = {
    Stage.NEW: 3,
    Stage.CONTACTED: 14,
    Stage.ENGAGED: 7,
    Stage.QUALIFIED: 21,
    Stage.PROPOSAL: 30,
}


class Source(models.TextChoices):
    REFERRAL = "referral", "Referral"
    OWN_NETWORK = "own_network", "Own network"
    HAND_RAISER = "hand_raiser", "Hand-raiser"
    ICP_PROSPECTING = "icp_prospecting", "ICP prospecting"
    MARKETING = "marketing", "Marketing"
    EVENT = "event", "Event"
    OTHER = "other", "Other"


STAGE_LABELS = dict(Stage.choices)
SOURCE_LABELS = dict(Source.choices)


# "Self-sourced" is the thesis of the product: every source except marketing.
SELF_SOURCED = tuple(source for source in Source if source != Source.MARKETING)

# What makes a lead a referred lead; see LeadQuerySet.referred.
REFERRED = Q(referred_by__isnull=False)
REFERRER_UNKNOWN = Q(source=Source.REFERRAL, referred_by__isnull=True)


class Seniority(models.TextChoices):
    INDIVIDUAL = "individual", "Individual contributor"
    MANAGER = "manager", "Manager"
    DIRECTOR = "director", "Director"
    VP = "vp", "VP"
    C_LEVEL = "c_level", "C-level"
    OWNER = "owner", "Owner / founder"


class Grade(models.TextChoices):
    A = "A", "A"
    B = "B", "B"
    C = "C", "C"
    D = "D", "D"


class AuditHistory(HistoricalRecords):
    """Change history (django-simple-history) that skips saves of bookkeeping fields alone.

    simple-history writes a row on every save(); a `save(update_fields=[...])` that touches only
    excluded fields (a logged touch updating last_contacted_at, say) would add a row identical
    to the previous one each time and push real changes out of the lead page's history.
    """

    def post_save(self, instance, created, using=None, **kwargs):
        update_fields = kwargs.get("update_fields")
        if update_fields and set(update_fields) <= set(self.excluded_fields):
            return
        super().post_save(instance, created, using=using, **kwargs)


class Company(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="companies"
    )
    name = models.CharField(max_length=200)
    domain = models.CharField(
        max_length=253, blank=True, help_text="e.g. example.com (without www or https://)."
    )
    industry = models.CharField(max_length=100, blank=True)
    employee_count = models.PositiveIntegerField(null=True, blank=True)
    annual_revenue = models.DecimalField(max_digits=15, decimal_places=0, null=True, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO country code, e.g. GB.")
    region = models.CharField(max_length=100, blank=True)
    city = models.CharField(max_length=100, blank=True)
    website = models.URLField(blank=True)
    tags = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "companies"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "domain"],
                condition=~Q(domain=""),
                name="company_domain_unique_per_owner",
                violation_error_message="You already have a company with this domain.",
            ),
        ]
        indexes = [models.Index(fields=["owner", "name"], name="company_owner_name")]

    def __str__(self) -> str:
        return self.name


# Computed by the scoring engine and the follow-up bookkeeping, never typed by a person: left
# out of the change history and read-only in the admin.
DERIVED_LEAD_FIELDS = (
    "fit_score",
    "intent_score",
    "total_score",
    "grade",
    "best_icp",
    "score_explanation",
    "scored_at",
    "next_follow_up_at",
    "last_contacted_at",
    "last_inbound_at",
    "unanswered_touches",
    "first_unanswered_at",
    "furthest_stage",
)


class LeadQuerySet(models.QuerySet):
    def referred(self) -> LeadQuerySet:
        """Referred leads: the ones credited to a referral source ("Referred by" is set).

        The one definition the Sources and Referrals reports, the referral pages, the weekly
        email and the scoring's referral bonus share, so their counts agree. A lead whose
        source says Referral but whose referrer nobody recorded is not one (yet): its page
        asks "Who referred this?".
        """
        return self.filter(REFERRED)

    def referrer_unknown(self) -> LeadQuerySet:
        """Leads whose source is Referral but whose referrer was never recorded."""
        return self.filter(REFERRER_UNKNOWN)


class Lead(models.Model):
    # No index of its own: every owner query is served by the composite (owner, …) indexes
    # below, and one index less is one less to maintain on each rescoring UPDATE.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="leads", db_index=False
    )
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    title = models.CharField("job title", max_length=200, blank=True)
    seniority = models.CharField(max_length=20, choices=Seniority.choices, blank=True)
    email = models.EmailField(max_length=254, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    linkedin_url = models.URLField("LinkedIn URL", max_length=300, blank=True)
    company = models.ForeignKey(
        Company, on_delete=models.SET_NULL, null=True, blank=True, related_name="leads"
    )
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.NEW)
    stage_changed_at = models.DateTimeField()
    lost_reason = models.CharField(max_length=200, blank=True)
    won_at = models.DateTimeField(null=True, blank=True)
    # The furthest stage on the path the lead has been in (its current stage and its stage
    # history), kept by the stage services: the funnel report counts leads by it instead of
    # grouping a year's history per lead (docs/performance.md, section 21).
    furthest_stage = models.CharField(max_length=20, choices=Stage.choices, blank=True, default="")
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.OTHER)
    source_detail = models.CharField(max_length=200, blank=True)
    # Indexed only where set (Meta.indexes): most leads have neither.
    referred_by = models.ForeignKey(
        "referrals.ReferralSource",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="referred_leads",
        db_index=False,
    )
    referral_ask = models.ForeignKey(
        "referrals.ReferralAsk",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="produced_leads",
        help_text="The referral ask that produced this lead.",
        db_index=False,
    )
    expected_value = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, default="EUR")
    # When the salesperson expects the deal to close; blank means the forecast estimates it
    # from the stage (forecast.probability.estimated_close_date) and says so.
    expected_close_date = models.DateField(
        null=True,
        blank=True,
        help_text="When you expect to win or lose it. Left blank, the forecast estimates it "
        "from the stage.",
    )
    do_not_contact = models.BooleanField(default=False)
    tags = models.JSONField(default=list, blank=True)
    notes = models.TextField(blank=True)

    # Scores are written by the rescoring services only.
    fit_score = models.PositiveSmallIntegerField(default=0)
    intent_score = models.PositiveSmallIntegerField(default=0)
    total_score = models.PositiveSmallIntegerField(default=0)
    grade = models.CharField(max_length=1, choices=Grade.choices, default=Grade.D)
    best_icp = models.ForeignKey(
        "icp.ICP", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    score_explanation = models.JSONField(default=dict, blank=True)
    # A digest (xxh3-128) of the explanation's JSON text as the rescoring wrote it (icp.rescoring
    # explanation_digest): a bulk run compares digests, not explanations. Empty until the
    # lead is scored, and on leads scored before the column existed: their next run rewrites
    # them.
    score_digest = models.CharField(
        max_length=32, blank=True, default="", db_default="", editable=False
    )
    scored_at = models.DateTimeField(null=True, blank=True)

    # Denormalised from activities and follow-ups for the dashboard, lists and cadence rules.
    next_follow_up_at = models.DateTimeField(null=True, blank=True)
    last_contacted_at = models.DateTimeField(null=True, blank=True)
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    unanswered_touches = models.PositiveSmallIntegerField(default=0)
    first_unanswered_at = models.DateTimeField(null=True, blank=True)
    # When mail to `email` last bounced (a delivery-status report read from a captured or
    # connected mailbox); cleared when the address changes.
    email_bounced_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = LeadQuerySet.as_manager()

    # Who changed what: scores and the denormalised fields are left out, so rescoring and
    # follow-up bookkeeping don't flood the history (rescoring writes with UPDATEs anyway).
    history = AuditHistory(
        excluded_fields=[*DERIVED_LEAD_FIELDS, "score_digest", "email_bounced_at", "updated_at"]
    )

    # Who made a change and why, for its history row: a write sets them on the instance just
    # before save() or delete(), and simple-history's hooks read them. Annotations only (no
    # class attribute, no column): an instance has them once a write sets them.
    _history_user: User
    _change_reason: str

    if TYPE_CHECKING:
        # Added to the model by simple-history: a save that writes no history row.
        def save_without_historical_record(self, *args: Any, **kwargs: Any) -> None: ...

    class Meta:
        ordering = ["-total_score", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "email"],
                condition=~Q(email=""),
                name="lead_email_unique_per_owner",
                violation_error_message="You already have a lead with this email address.",
            ),
            models.UniqueConstraint(
                fields=["owner", "linkedin_url"],
                condition=~Q(linkedin_url=""),
                name="lead_linkedin_unique_per_owner",
                violation_error_message="You already have a lead with this LinkedIn profile.",
            ),
            models.CheckConstraint(condition=Q(stage__in=Stage.values), name="lead_stage_valid"),
            models.CheckConstraint(condition=Q(source__in=Source.values), name="lead_source_valid"),
            models.CheckConstraint(
                condition=Q(fit_score__lte=100)
                & Q(intent_score__lte=100)
                & Q(total_score__lte=100),
                name="lead_scores_at_most_100",
            ),
            models.CheckConstraint(
                condition=~Q(first_name="", last_name="", email=""),
                name="lead_has_name_or_email",
                violation_error_message="Give the lead a name or an email address.",
            ),
        ]
        indexes = [
            # The id ends every score index the lead list walks, so a deep page's cursor (a row
            # comparison on score and id) is where the scan starts; the INCLUDEd columns are
            # the list's filters, read from the index without the table by lead_page's id query
            # (issue 20: a stage + source filter walked ~11,000 rows of the table to its last
            # page). Widening an index costs a rescoring write a few bytes; another index would
            # cost it ~5% at 1M (docs/performance.md, sections 11 and 17.d).
            models.Index(
                fields=["owner", "stage", "-total_score", "-id"],
                include=["source"],
                name="lead_owner_stage_score",
            ),
            models.Index(fields=["owner", "-total_score", "-id"], name="lead_owner_score"),
            # A manager's lead list as it opens (everyone's leads, best first): without it,
            # page 1 sorted every lead (~80 ms at 100k, ~1 s at 1M). The company is included
            # for the search's "or their company matches" test (lead_search).
            models.Index(fields=["-total_score", "-id"], include=["company_id"], name="lead_score"),
            # Rescoring rewrites every index entry of a lead whose score changed: partial
            # indexes on these mostly empty links cost nothing for the leads without one.
            # The referred leads' columns the referrals report counts are included, so its two
            # reads of them are index-only scans instead of two reads of the whole table
            # (issue 20; no score column in it).
            models.Index(
                fields=["referred_by"],
                include=["id", "owner", "created_at", "stage", "expected_value"],
                condition=Q(referred_by__isnull=False),
                name="lead_referred_by_rows",
            ),
            models.Index(
                fields=["referral_ask"],
                condition=Q(referral_ask__isnull=False),
                name="lead_referral_ask",
            ),
            models.Index(fields=["owner", "next_follow_up_at"], name="lead_owner_next_follow_up"),
            # The lead list sorted by date added, a salesperson's and the team's, one page after
            # another (keyset on created_at, id); the second also answers the funnel report's
            # leads created in a period (their ids, stages and furthest stages) from the index.
            models.Index(fields=["owner", "-created_at", "-id"], name="lead_owner_created"),
            models.Index(
                fields=["created_at", "id"],
                include=["stage", "furthest_stage"],
                name="lead_created",
            ),
            models.Index(fields=["stage", "stage_changed_at"], name="lead_stage_changed"),
            # A manager's list filtered by stage and the pipeline's columns, best first; with
            # the value included, the board's per-stage count and sum is an index-only scan.
            models.Index(
                fields=["stage", "-total_score", "-id"],
                include=["expected_value", "source"],
                name="lead_stage_score",
            ),
            # Today's "Best leads not yet contacted": without it PostgreSQL walked the global
            # score index and filtered ~90k other leads to find one owner's five.
            models.Index(
                fields=["owner", "-total_score", "-id"],
                condition=Q(stage="new", last_contacted_at__isnull=True),
                name="lead_owner_uncontacted_score",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    # Django's own get_FOO_display rebuilds a dict of every choice on each call; these two are
    # drawn on every row of the lead list and every pipeline card.
    def get_stage_display(self) -> str:
        return STAGE_LABELS.get(self.stage, self.stage)

    def get_source_display(self) -> str:
        return SOURCE_LABELS.get(self.source, self.source)

    @property
    def full_name(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return name or self.email

    @property
    def is_open(self) -> bool:
        return self.stage in OPEN_STAGES

    @property
    def is_referred(self) -> bool:
        """In Python, the same as LeadQuerySet.referred."""
        return self.referred_by_id is not None

    @property
    def referrer_unknown(self) -> bool:
        """Its source says Referral but nobody recorded who: the page asks "Who referred this?"."""
        return self.source == Source.REFERRAL and self.referred_by_id is None


class LeadSearchEntry(models.Model):
    """A lead's search text (first name, last name and email joined by spaces) in a table of
    its own, for the trigram index the lead search uses on PostgreSQL (`lead_search_trgm`).

    PostgreSQL only, and kept by the database itself: triggers on leads_lead write it when a
    lead is inserted or its name or email changes, and remove it with the lead
    (leads/migrations/0017). Beside the lead, that index was rewritten by every score write
    (a changed score is never a HOT update, so each index of leads_lead gets a new entry):
    ~25% of a bulk rescore's UPDATE. SQLite has no such index and no such table: there the
    search reads the lead's own columns. Never written from Python.
    """

    lead = models.OneToOneField(
        Lead,
        primary_key=True,
        on_delete=models.DO_NOTHING,  # the database's trigger removes it with the lead
        db_constraint=False,
        related_name="+",
    )
    text = models.TextField()

    class Meta:
        managed = False
        db_table = "leads_lead_search"

    def __str__(self) -> str:
        return self.text


class StageChange(models.Model):
    """One move of a lead through the pipeline; the basis of time-in-stage and cycle time."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.CharField(max_length=20, choices=Stage.choices, blank=True)
    to_stage = models.CharField(max_length=20, choices=Stage.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    changed_at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [
            models.Index(fields=["lead", "-changed_at"], name="stagechange_lead_time"),
            models.Index(fields=["to_stage", "changed_at"], name="stagechange_to_time"),
        ]

    def __str__(self) -> str:
        return f"{self.get_from_stage_display() or 'Created'} → {self.get_to_stage_display()}"


class ActivityKind(models.TextChoices):
    CALL = "call", "Call"
    EMAIL = "email", "Email"
    MEETING = "meeting", "Meeting"
    LINKEDIN = "linkedin", "LinkedIn message"
    NOTE = "note", "Note"
    REFERRAL_ASK = "referral_ask", "Referral ask"
    REPLIED = "replied", "Replied"
    ASKED_FOR_INFO = "asked_for_info", "Asked for info"
    ASKED_FOR_DEMO = "asked_for_demo", "Asked for a demo"
    ATTENDED_EVENT = "attended_event", "Attended an event"
    WAS_INTRODUCED = "was_introduced", "Was introduced"
    # Booked a slot on the salesperson's public page (handraise).
    BOOKED_MEETING = "booked_meeting", "Booked a meeting"


# Touches count towards the daily goal; hand-raise signals feed the intent score.
TOUCH_KINDS = (ActivityKind.CALL, ActivityKind.EMAIL, ActivityKind.MEETING, ActivityKind.LINKEDIN)
HAND_RAISE_KINDS = (
    ActivityKind.REPLIED,
    ActivityKind.ASKED_FOR_INFO,
    ActivityKind.ASKED_FOR_DEMO,
    ActivityKind.ATTENDED_EVENT,
    ActivityKind.WAS_INTRODUCED,
    ActivityKind.BOOKED_MEETING,
)


class Direction(models.TextChoices):
    OUTBOUND = "outbound", "Outbound"
    INBOUND = "inbound", "Inbound"


class Outcome(models.TextChoices):
    NONE = "", "—"
    CONNECTED = "connected", "Connected"
    NO_ANSWER = "no_answer", "No answer"
    VOICEMAIL = "voicemail", "Left voicemail"
    REPLIED = "replied", "Replied"
    MEETING_BOOKED = "meeting_booked", "Meeting booked"
    NOT_INTERESTED = "not_interested", "Not interested"


# Outcomes that mean the lead answered: they end an unanswered outbound streak.
ANSWERED_OUTCOMES = (Outcome.CONNECTED, Outcome.REPLIED, Outcome.MEETING_BOOKED)


class Activity(models.Model):
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="activities")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="activities"
    )
    kind = models.CharField(max_length=20, choices=ActivityKind.choices)
    direction = models.CharField(
        max_length=10, choices=Direction.choices, default=Direction.OUTBOUND
    )
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    occurred_at = models.DateTimeField()
    text = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "activities"
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=ActivityKind.values), name="activity_kind_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["lead", "-occurred_at"], name="activity_lead_time"),
            models.Index(fields=["user", "-occurred_at"], name="activity_user_time"),
            models.Index(fields=["kind", "occurred_at"], name="activity_kind_time"),
            # Rescoring reads a batch's hand-raises (~15% of activities) by lead id range;
            # index-only on PostgreSQL thanks to INCLUDE (kind).
            models.Index(
                fields=["lead", "occurred_at"],
                include=["kind"],
                condition=Q(kind__in=HAND_RAISE_KINDS),
                name="activity_hand_raise",
            ),
            # The activity report counts a team's touches per rep and week over a year.
            models.Index(
                fields=["occurred_at", "user"],
                condition=Q(kind__in=TOUCH_KINDS, user__isnull=False),
                name="activity_touch_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.lead}"

    @property
    def is_hand_raise(self) -> bool:
        return self.kind in HAND_RAISE_KINDS


class FollowUpKind(models.TextChoices):
    FIRST_TOUCH = "first_touch", "First touch"
    FOLLOW_UP = "follow_up", "Follow up"
    RESPOND = "respond", "Respond to hand-raise"
    REFERRAL_ASK = "referral_ask", "Ask for a referral"
    CHECK_IN = "check_in", "Customer check-in"
    RE_ENGAGE = "re_engage", "Re-engage"
    # A referred lead reached Qualified or Won: tell the referrer how it went.
    THANK_REFERRER = "thank_referrer", "Thank the referrer"
    # An imported contact from the salesperson's network, spread a few a day, best fit first.
    RECONNECT = "reconnect", "Reconnect"
    CUSTOM = "custom", "To do"


# Follow-ups that are a touch: marking one done asks how it went and logs that touch.
TOUCH_FOLLOW_UP_KINDS = (
    FollowUpKind.FIRST_TOUCH,
    FollowUpKind.FOLLOW_UP,
    FollowUpKind.RESPOND,
    FollowUpKind.CHECK_IN,
    FollowUpKind.RE_ENGAGE,
    FollowUpKind.THANK_REFERRER,
    FollowUpKind.RECONNECT,
)


class FollowUpResolution(models.TextChoices):
    DONE = "done", "Done"
    SUPERSEDED = "superseded", "Replaced by a newer follow-up"
    MERGED = "merged", "Closed when its lead was merged"


class FollowUp(models.Model):
    """The next step on a lead. The database keeps at most one pending per lead."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="follow_ups")
    kind = models.CharField(max_length=20, choices=FollowUpKind.choices)
    due_at = models.DateTimeField()
    note = models.CharField(max_length=200, blank=True)
    rule = models.CharField(
        max_length=40, blank=True, help_text="The cadence rule that created it; blank if a person."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    done_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=12, choices=FollowUpResolution.choices, blank=True)
    snooze_count = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["lead"],
                condition=Q(done_at__isnull=True),
                name="one_pending_follow_up_per_lead",
            ),
        ]
        indexes = [
            models.Index(
                fields=["due_at"], condition=Q(done_at__isnull=True), name="followup_pending_due"
            ),
            models.Index(fields=["lead", "-done_at"], name="followup_lead_done"),
            # The network pool's reconnects (`in_network_pool`): Today asks for them on every
            # load; without it PostgreSQL scanned every follow-up for the few reconnects.
            models.Index(
                fields=["lead"],
                condition=Q(done_at__isnull=True, kind="reconnect"),
                name="followup_pending_reconnect",
            ),
            # Today leaves out a hand-raise whose answer was snoozed to a later day: the few
            # pending snoozed follow-ups, not every pending one.
            models.Index(
                fields=["lead", "due_at"],
                condition=Q(done_at__isnull=True, snooze_count__gt=0),
                name="followup_pending_snoozed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.lead}"

    @property
    def is_touch(self) -> bool:
        return self.kind in TOUCH_FOLLOW_UP_KINDS


class ExactJSONEncoder(DjangoJSONEncoder):
    """Django's JSON encoder, but datetimes keep their microseconds (Django's drops them), so
    values stored for an undo compare equal to the columns they came from."""

    def default(self, o: object) -> object:
        if isinstance(o, datetime):
            return o.isoformat()
        return super().default(o)


class LeadMerge(models.Model):
    """Two leads made one by hand: the duplicate folded into the survivor, and undoable.

    The duplicate row is deleted (so its email and LinkedIn profile are free for the survivor);
    what it takes to bring it back is kept here: its field values and primary key, the
    survivor's values before the merge and the values the merge gave it, and the ids of every
    row that moved, so an undo moves exactly those rows back.
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Whose leads were merged (both leads belong to one salesperson).",
    )
    # Null once the survivor is deleted (or merged into another lead): then it can't be undone.
    survivor = models.ForeignKey(
        Lead, on_delete=models.SET_NULL, null=True, blank=True, related_name="merges"
    )
    survivor_name = models.CharField(max_length=200)
    duplicate_id = models.BigIntegerField(help_text="The merged lead's id; an undo reuses it.")
    duplicate_name = models.CharField(max_length=200)
    duplicate_values = models.JSONField(encoder=ExactJSONEncoder)
    survivor_values = models.JSONField(
        encoder=ExactJSONEncoder, help_text="The survivor's fields before the merge."
    )
    survivor_changes = models.JSONField(
        encoder=ExactJSONEncoder, default=dict, help_text="The fields the merge changed, as set."
    )
    moved = models.JSONField(default=dict, help_text="Ids of the rows that moved, by kind.")
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    merged_at = models.DateTimeField()
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-merged_at", "-id"]
        constraints = [
            # A deleted lead is folded into one survivor at a time: an undo recreates it once.
            models.UniqueConstraint(
                fields=["duplicate_id"],
                condition=Q(undone_at__isnull=True),
                name="leadmerge_duplicate_merged_once",
            ),
        ]
        indexes = [
            models.Index(fields=["survivor", "-merged_at"], name="leadmerge_survivor_time"),
            models.Index(fields=["owner", "-merged_at"], name="leadmerge_owner_time"),
        ]

    def __str__(self) -> str:
        return f"{self.duplicate_name} merged into {self.survivor_name}"

    @property
    def is_undone(self) -> bool:
        return self.undone_at is not None

    @property
    def can_undo(self) -> bool:
        return self.undone_at is None and self.survivor_id is not None
