"""Pages for the daily work on leads: Today, the lead list and detail, the pipeline board."""

from __future__ import annotations

import re

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, reswap, retarget

from accounts.http import AuthenticatedHttpRequest
from leadhunter.forms import add_service_errors, form_error_messages
from leadhunter.htmx import render_region, trigger, wants_partial
from leadhunter.redirects import next_url
from leads import merging, selectors, services
from leads.forms import (
    ActivityForm,
    BulkActionForm,
    CompanyForm,
    FollowUpForm,
    LeadContactForm,
    LeadDealForm,
    LeadFilterForm,
    LeadMergeForm,
    LeadReferrerForm,
    MergeSearchForm,
    NextStepForm,
    QuickAddLeadForm,
    SnoozeForm,
    StageForm,
    TouchOutcomeForm,
)
from leads.models import TOUCH_KINDS, ActivityKind, Company, Lead, Outcome, Stage
from leads.services import merging as merge_writes

# --- Today ---------------------------------------------------------------------------------

# A Today row's element id, as QueueItem.row_id makes it: "queue-<kind>-<id>".
TODAY_ROW_ID = re.compile(r"queue-[a-z_]+-[0-9]+")


@require_GET
def today(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Everything due, best first: the best TODAY_QUEUE_LIMIT, or with ?all=1 (the "N more
    due" link) up to TODAY_QUEUE_ALL_LIMIT."""
    show_all = request.GET.get("all") == "1"
    limit = selectors.TODAY_QUEUE_ALL_LIMIT if show_all else selectors.TODAY_QUEUE_LIMIT
    queue = selectors.today_queue(request.user, limit=limit)
    return render_region(
        request,
        "leads/today.html",
        "today-queue",
        {"title": "Today", "queue": queue, "log_form": ActivityForm(), "show_all": show_all},
    )


@require_GET
def today_progress(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The touch-goal bar; htmx reloads it when a row announces a change."""
    if not wants_partial(request):
        return redirect("today")
    queue_progress = {
        "touches_today": selectors.touches_today(request.user),
        "goal": request.user.daily_touch_goal,
    }
    return render_region(
        request, "leads/today.html", "today-progress-bar", {"progress": queue_progress}
    )


@require_POST
def follow_up_complete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Mark a follow-up done; with an `outcome` (Today's c/v/n/e keys) the touch is logged."""
    follow_up = get_object_or_404(
        selectors.follow_ups_visible_to(request.user).select_related("lead"), pk=pk
    )
    touch_kind, outcome = "", ""
    if "outcome" in request.POST:
        form = TouchOutcomeForm(request.POST)
        if not form.is_valid():
            return _row_again(request, follow_up.lead, follow_up, outcome_form=form)
        touch_kind, outcome = form.touch()
    next_follow_up = services.follow_up_complete(
        follow_up=follow_up, user=request.user, touch_kind=touch_kind, outcome=outcome
    )
    done = "Done" if not touch_kind else f"{_touch_label(touch_kind, outcome)} logged"
    return _row_result(
        request,
        follow_up.lead,
        done=f"{done}. Next: {_when(next_follow_up)}",
        touch=bool(touch_kind),
    )


@require_POST
def follow_up_snooze(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Snooze 1 day, 3 days, a week (`days`) or to a day picked (`until`)."""
    follow_up = get_object_or_404(
        selectors.follow_ups_visible_to(request.user).select_related("lead"), pk=pk
    )
    form = SnoozeForm(request.POST or {"days": 3})
    if form.is_valid():
        try:
            snoozed = services.follow_up_snooze(
                follow_up=follow_up,
                user=request.user,
                days=form.cleaned_data["days"] or 3,
                until=None if form.cleaned_data["days"] else form.cleaned_data["until"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return _row_result(
                request, follow_up.lead, done=f"Snoozed to {_when_at(snoozed.due_at)}"
            )
    return _row_again(request, follow_up.lead, follow_up, snooze_form=form)


@require_POST
def today_done(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Done on a Today row without a follow-up (a hand-raiser, a lead going cold): the touch
    that answered it, logged with how it went."""
    lead = get_object_or_404(selectors.leads_visible_to(request.user), pk=pk)
    form = TouchOutcomeForm(request.POST)
    if not form.is_valid():
        return _row_again(request, lead, None, outcome_form=form)
    touch_kind, outcome = form.touch()
    services.activity_log(lead=lead, user=request.user, kind=touch_kind, outcome=outcome)
    lead.refresh_from_db()
    return _row_result(
        request,
        lead,
        done=f"{_touch_label(touch_kind, outcome)} logged. Next: {_next_of(lead)}",
        touch=True,
    )


@require_GET
def today_log_form(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """A Today row's Log form, loaded when its Log panel opens, with the next step the
    cadence plans for a call already filled in."""
    lead = get_object_or_404(selectors.leads_visible_to(request.user), pk=pk)
    if not wants_partial(request):
        return redirect("lead-detail", pk=pk)
    row_id = request.GET.get("row_id", "")
    if not TODAY_ROW_ID.fullmatch(row_id):
        return HttpResponseBadRequest("Which Today row is this form for? (row_id)")
    context = {
        "item": {"row_id": row_id, "lead": lead},
        "log_form": ActivityForm(),
        "next_form": _next_step_form(
            request, lead, kind="call", outcome="", occurred_at=None, auto_id=f"{row_id}-%s"
        ),
    }
    return render_region(request, "leads/today.html", "queue-row-log", context)


@require_GET
def today_done_form(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The Done choices (how did it go?) of a Today row without a follow-up, loaded when its
    panel opens."""
    lead = get_object_or_404(selectors.leads_visible_to(request.user), pk=pk)
    if not wants_partial(request):
        return redirect(reverse("lead-detail", args=[pk]) + "#lead-log")
    return _today_panel(request, "queue-row-done", lead=lead, follow_up=None)


@require_GET
def today_follow_up_done_form(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """A Today row's Done choices for its follow-up, loaded when the panel opens."""
    return _follow_up_panel(request, pk, "queue-row-done")


@require_GET
def today_follow_up_snooze_form(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """A Today row's Snooze choices for its follow-up, loaded when the panel opens."""
    return _follow_up_panel(request, pk, "queue-row-snooze")


def _follow_up_panel(request: AuthenticatedHttpRequest, pk: int, region: str) -> HttpResponse:
    follow_up = get_object_or_404(selectors.follow_ups_visible_to(request.user), pk=pk)
    if not wants_partial(request):
        return redirect(reverse("lead-detail", args=[follow_up.lead_id]) + "#lead-follow-up")
    if follow_up.done_at is not None:
        # Done in another tab or by a teammate: the panel's slot shows this sentence.
        return HttpResponse(
            "this follow-up is already done.", status=409, content_type="text/plain"
        )
    return _today_panel(request, region, lead=None, follow_up=follow_up)


def _today_panel(
    request: AuthenticatedHttpRequest, region: str, *, lead: Lead | None, follow_up
) -> HttpResponse:
    row_id = request.GET.get("row_id", "")
    if not TODAY_ROW_ID.fullmatch(row_id):
        return HttpResponseBadRequest("Which Today row is this for? (row_id)")
    # The panels read only the ids of the lead and the follow-up.
    item = {"row_id": row_id, "lead": lead, "follow_up": follow_up}
    return render_region(request, "leads/today.html", region, {"item": item})


@require_POST
def today_log(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Log a touch from a Today row; the row shows what happened and the goal bar moves."""
    lead = get_object_or_404(selectors.leads_visible_to(request.user), pk=pk)
    form = ActivityForm(request.POST)
    next_form = NextStepForm(request.POST, user=request.user)
    if form.is_valid() and next_form.is_valid():
        try:
            activity = services.activity_log(
                lead=lead,
                user=request.user,
                kind=form.cleaned_data["kind"],
                outcome=form.cleaned_data["outcome"],
                occurred_at=form.cleaned_data["occurred_at"],
                text=form.cleaned_data["text"],
                next_step=next_form.next_step(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            lead.refresh_from_db()
            label = activity.get_kind_display()
            touch = activity.kind in TOUCH_KINDS
            return _row_result(
                request, lead, done=f"{label} logged. Next: {_next_of(lead)}", touch=touch
            )
    follow_up = _rows_follow_up(request, lead)
    return _row_again(request, lead, follow_up, log_form=form, next_form=next_form)


def _rows_follow_up(request: AuthenticatedHttpRequest, lead):
    """The pending follow-up a Today row shows, if the row is that follow-up's."""
    pending = lead.follow_ups.filter(done_at__isnull=True).first()
    if pending is None:
        return None
    row_id = selectors.queue_item_for(lead=lead, follow_up=pending).row_id
    return pending if request.POST.get("row_id") == row_id else None


def _row_again(
    request: AuthenticatedHttpRequest,
    lead,
    follow_up,
    **forms_with_errors,
) -> HttpResponse:
    """A Today action refused: the row again, with each form's errors next to its fields
    (422), or without JavaScript back to Today with the errors in a message."""
    problems = [
        message for form in forms_with_errors.values() for message in form_error_messages(form)
    ]
    if not wants_partial(request) or request.htmx.target == "lead-follow-up":
        # Without JavaScript: back with a message; from the lead page: its Next step card.
        return _row_result(request, lead, error=" ".join(problems), status=422)
    item = selectors.queue_item_for(lead=lead, follow_up=follow_up)
    context = {
        "item": item,
        "row_id": request.POST.get("row_id") or item.row_id,
        "log_form": ActivityForm(),
        "open_panel": next(iter(forms_with_errors)).removesuffix("_form"),
        **forms_with_errors,
    }
    return render_region(request, "leads/today.html", "queue-row", context, status=422)


@require_GET
def lead_next_step(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The follow-up a touch being logged will leave, for the log forms to show (and let the
    salesperson change) before saving; reloaded as the kind, outcome or time change."""
    lead = _lead_for(request, pk)
    if not wants_partial(request):
        return redirect("lead-detail", pk=pk)
    form = ActivityForm(request.GET)
    form.is_valid()  # a half-filled form still gets the plan for what it has
    row_id = request.GET.get("row_id", "")
    context = {
        "lead": lead,
        "next_step_id": _next_step_id(row_id),
        "next_form": _next_step_form(
            request,
            lead,
            kind=form.cleaned_data.get("kind") or "call",
            outcome=form.cleaned_data.get("outcome") or "",
            occurred_at=form.cleaned_data.get("occurred_at"),
            auto_id=f"{row_id or 'lead'}-%s",
        ),
    }
    return render_region(request, "leads/_next_step.html", "next-step", context)


def _next_step_id(row_id: str) -> str:
    # The Today rows each have a log form; the region's id follows its row's.
    safe = "".join(char for char in row_id if char.isalnum() or char in "-_")
    return f"next-step-{safe}" if safe else "next-step-lead"


def _next_step_form(request: AuthenticatedHttpRequest, lead, **activity) -> NextStepForm:
    """The next-step fields filled with the cadence's plan for this activity."""
    auto_id = activity.pop("auto_id", "next_%s")
    step = services.activity_log_preview(lead=lead, **activity)
    initial: dict[str, object] = {"planned": step is not None}
    if step is not None:
        local = timezone.localtime(step.due_at, request.user.zone)
        initial.update(due_date=local.date(), due_time=local.time(), kind=step.kind, note=step.note)
    form = NextStepForm(initial=initial, user=request.user, auto_id=auto_id)
    form.step = step
    return form


def _watching(form: ActivityForm, lead) -> ActivityForm:
    return form.watch_next_step(
        url=reverse("lead-next-step", args=[lead.pk]), target="next-step-lead"
    )


def _touch_label(touch_kind: str, outcome: str) -> str:
    label = ActivityKind(touch_kind).label
    return f"{label} ({Outcome(outcome).label.lower()})" if outcome else label


def _next_of(lead) -> str:
    pending = lead.follow_ups.filter(done_at__isnull=True).first()
    return _when(pending)


def _row_result(
    request: AuthenticatedHttpRequest,
    lead,
    *,
    done: str = "",
    error: str = "",
    status: int = 200,
    touch: bool = False,
) -> HttpResponse:
    """The Today row after an action, or (without JavaScript) back to Today with a message."""
    if not wants_partial(request):
        if error:
            messages.error(request, f"{lead}: {error}")
        else:
            messages.success(request, f"{lead}: {done}")
        return redirect(next_url(request, reverse("today")))
    if request.htmx.target == "lead-follow-up":
        # Sent from the lead page's "Next step" card: that card comes back, saying what failed.
        context = {
            **_detail_context(request, _lead_for(request, lead.pk)),
            "follow_up_error": error,
        }
        response = render_region(
            request, "leads/lead_detail.html", "lead-follow-up", context, status=status
        )
        return trigger(response, "todayChanged", "leadChanged") if done else response
    row_id = request.POST.get("row_id", f"queue-lead-{lead.pk}")
    context = {"lead": lead, "done": done, "error": error, "row_id": row_id}
    response = render_region(
        request, "leads/today.html", "queue-row-result", context, status=status
    )
    # The Today progress bar and, on a lead's page, its timeline and next step refresh.
    return trigger(response, "todayChanged", "leadChanged") if touch or done else response


def _when(follow_up) -> str:
    if not follow_up:
        return "nothing planned"
    return f"{follow_up.get_kind_display()} on {_when_at(follow_up.due_at)}"


def _when_at(moment) -> str:
    if moment is None:
        return "nothing planned"
    local = timezone.localtime(moment)
    return f"{local:%a %-d %b}"


# --- Lead list -----------------------------------------------------------------------------


def _owners_for(user):
    if not user.is_manager:
        return None
    from accounts.models import User

    return User.objects.filter(is_active=True).order_by("first_name", "username")


# The bulk bar's choices: the same on every page, so no form is built to print them.
BULK_CHOICES = {
    name: BulkActionForm.base_fields[name].choices  # type: ignore[attr-defined]
    for name in ("action", "to_stage")
}


@require_GET
def lead_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = LeadFilterForm(request.GET or None, owners=_owners_for(request.user))
    filters = form.cleaned_data if form.is_valid() else {}
    sort = filters.get("sort") or "score"
    page = selectors.lead_page(
        selectors.leads_filtered(request.user, filters),
        sort=sort,
        after=filters.get("after", ""),
        with_owner=request.user.is_manager,
    )
    context = {
        "title": "Leads",
        "form": form,
        "page": page,
        "sort": sort,
        "query": _query_without(request, "after"),
        "sort_query": _query_without(request, "after", "sort"),
        # The blank forms are not built: their HTML is cached, or (bulk) fixed choices.
        "quick_add": None,
        "new_quick_add": QuickAddLeadForm,
        "bulk_choices": BULK_CHOICES,
        "is_manager": request.user.is_manager,
        "now": timezone.now(),
    }
    return render_region(request, "leads/lead_list.html", "lead-table", context)


@require_POST
def lead_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Quick add: a name or an email is enough; the rest can be filled in on the lead's page."""
    form = QuickAddLeadForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            lead = services.lead_quick_add(owner=request.user, **data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                f"Added {lead}. First touch planned for {_when_at(lead.next_follow_up_at)}.",
            )
            if wants_partial(request):
                response = render_region(
                    request,
                    "leads/lead_list.html",
                    "quick-add",
                    {"quick_add": None, "new_quick_add": QuickAddLeadForm, "created": lead},
                )
                return trigger(response, "leadsChanged")
            return redirect("lead-detail", pk=lead.pk)
    if wants_partial(request):
        return render_region(
            request, "leads/lead_list.html", "quick-add", {"quick_add": form}, status=422
        )
    messages.error(request, "The lead was not added: " + "; ".join(form_error_messages(form)))
    return redirect("lead-list")


@require_POST
def lead_bulk(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Change the stage of, or add a follow-up to, the selected leads (only visible ones)."""
    form = BulkActionForm(request.POST)
    ids = [int(value) for value in request.POST.getlist("lead_ids") if value.isdigit()]
    leads = list(
        selectors.leads_visible_to(request.user).filter(pk__in=ids).select_related("owner")
    )
    if not form.is_valid() or not leads:
        problem = "Select at least one lead." if not leads else "; ".join(form_error_messages(form))
        messages.error(request, problem)
    else:
        done, skipped = services.leads_bulk_action(
            leads=leads,
            user=request.user,
            action=form.cleaned_data["action"],
            to_stage=form.cleaned_data.get("to_stage") or "",
            due_date=form.cleaned_data.get("due_date"),
        )
        text = f"Updated {done} lead{'s' if done != 1 else ''}."
        if skipped:
            text += f" Skipped {len(skipped)}: " + "; ".join(skipped[:5])
        level = messages.SUCCESS if done else messages.WARNING
        messages.add_message(request, level, text)
    back = next_url(request, reverse("lead-list"))
    if wants_partial(request):
        # Many rows changed: reload the list page (keeping its filters) to show the result.
        return HttpResponseClientRedirect(back)
    return redirect(back)


def _query_without(request: AuthenticatedHttpRequest, *names: str) -> str:
    params = request.GET.copy()
    for name in names:
        params.pop(name, None)
    return params.urlencode()


# --- Lead detail ---------------------------------------------------------------------------

EDIT_SECTIONS = {"contact": LeadContactForm, "deal": LeadDealForm}


def _lead_for(request: AuthenticatedHttpRequest, pk: int):
    return get_object_or_404(
        selectors.leads_visible_to(request.user).select_related(
            "company", "owner", "referred_by", "best_icp", "as_referral_source"
        ),
        pk=pk,
    )


def _detail_context(request: AuthenticatedHttpRequest, lead) -> dict:
    # "Show older entries" (?timeline=all): the timeline up to its limit, not only the latest.
    timeline_all = request.GET.get("timeline") == "all"
    timeline_limit = selectors.TIMELINE_LIMIT if timeline_all else selectors.TIMELINE_FIRST
    return {
        "title": str(lead),
        "lead": lead,
        **selectors.lead_detail_extras(lead, timeline_limit=timeline_limit),
        "timeline_all": timeline_all,
        "merges": merging.lead_merges(lead),
        "going_cold": selectors.is_going_cold(lead),
        "activity_form": _watching(ActivityForm(), lead),
        "next_form": _next_step_form(request, lead, kind=ActivityKind.CALL, auto_id="lead-%s"),
        "next_step_id": "next-step-lead",
        "stage_form": StageForm(initial={"to_stage": lead.stage}),
        "referrer_form": LeadReferrerForm(lead=lead),
    }


@require_GET
def lead_history(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The lead page's Change history card, asked for as it scrolls into view: an audit that
    few visits read, so the page itself does not read and diff the history (issue 20). Whole
    page without JavaScript (the card's link)."""
    lead = get_object_or_404(selectors.leads_visible_to(request.user), pk=pk)
    origins = merging.merged_history_origins(merging.lead_merges(lead))
    context = {
        "title": f"Change history: {lead}",
        "lead": lead,
        "history": selectors.lead_history(lead, merged_history=origins),
    }
    return render_region(request, "leads/lead_history.html", "lead-history", context)


# Regions of the lead page that reload themselves when the lead changes (leadChanged).
DETAIL_REGIONS = ("lead-timeline", "lead-follow-up", "lead-score", "lead-contact-actions")
# Cards whose Cancel button reloads them as they are.
CARD_REGIONS = ("lead-contact", "lead-deal", "lead-company")


@require_GET
def lead_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    lead = _lead_for(request, pk)
    region = request.GET.get("region", "lead-timeline")
    if region not in DETAIL_REGIONS and region not in CARD_REGIONS:
        region = "lead-timeline"
    context = _detail_context(request, lead)
    # A reloaded score card brings the header's grade along (an out-of-band swap).
    context["grade_out_of_band"] = region == "lead-score" and wants_partial(request)
    return render_region(request, "leads/lead_detail.html", region, context)


@require_http_methods(["GET", "POST"])
def lead_edit(request: AuthenticatedHttpRequest, pk: int, section: str) -> HttpResponse:
    """Inline editing of one card of the lead page: GET gives the form, POST saves it."""
    if section not in EDIT_SECTIONS:
        raise Http404("No such section")
    lead = _lead_for(request, pk)
    form_class = EDIT_SECTIONS[section]
    region = f"lead-{section}"
    if request.method == "GET":
        # The card's form only while it is being edited (the page draws the card's facts).
        form = form_class(instance=lead)
        context = {**_detail_context(request, lead), "editing": section, f"{section}_form": form}
        return render_region(request, "leads/lead_detail.html", region, context)
    form = form_class(request.POST, instance=Lead.objects.get(pk=lead.pk))
    if form.is_valid():
        try:
            services.lead_update(
                lead=lead,
                user=request.user,
                rescore_now=True,
                **{name: form.cleaned_data[name] for name in form.fields},
            )
        except ValidationError as error:
            add_service_errors(form, error)
    if form.errors:
        context = {**_detail_context(request, lead), "editing": section, f"{section}_form": form}
        return render_region(request, "leads/lead_detail.html", region, context, status=422)
    if wants_partial(request):
        # No flash message: the card itself shows what was saved (a message would wait for
        # the next whole page and say "Saved." on Today).
        lead = _lead_for(request, pk)
        # The name and title under the header change with the card (out of band).
        context = {**_detail_context(request, lead), "heading_oob": True}
        response = render_region(request, "leads/lead_detail.html", region, context)
        # The call/email buttons under the name show what was just saved (leadChanged); the
        # lead was rescored above, so the score card reloads at once (leadScored).
        return trigger(response, "leadChanged", "leadScored")
    messages.success(request, "Saved.")
    return redirect("lead-detail", pk=pk)


@require_http_methods(["GET", "POST"])
def lead_company_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The lead page's Company card: GET gives the form, POST saves what the salesperson found
    out. The lead is rescored before the response, and `leadScored` reloads the score card at
    once (it waits for a worker after other changes)."""
    lead = _lead_for(request, pk)
    region = "lead-company"
    if request.method == "GET":
        form = CompanyForm(instance=lead.company)
        context = _company_card_context(request, lead, form)
        return render_region(request, "leads/lead_detail.html", region, context)
    # No instance: the form's validation must not leave its values on the lead's company.
    form = CompanyForm(request.POST)
    if form.is_valid():
        try:
            services.lead_company_update(lead=lead, user=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
    if form.errors:
        lead = _lead_for(request, pk)  # as stored, not as the refused edit left its company
        context = _company_card_context(request, lead, form)
        return render_region(request, "leads/lead_detail.html", region, context, status=422)
    if not wants_partial(request):
        messages.success(request, "Saved. The score is up to date.")
        return redirect("lead-detail", pk=pk)
    lead = _lead_for(request, pk)
    # The company named under the header changes with the card (out of band).
    context = {"lead": lead, "heading_oob": True}
    response = render_region(request, "leads/lead_detail.html", region, context)
    return trigger(response, "leadScored")


def _company_card_context(request: AuthenticatedHttpRequest, lead: Lead, form: CompanyForm) -> dict:
    """The Company card in edit mode; the whole page's context only when it is drawn whole
    (no JavaScript)."""
    context = _detail_context(request, lead) if not wants_partial(request) else {"lead": lead}
    return {
        **context,
        "editing": "company",
        "company_form": form,
        "industries": selectors.company_industries(request.user),
    }


@require_POST
def lead_referrer(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Answer the lead page's "Who referred this?": credit the referrer (made a referral source
    if they are a lead or customer). The prompt says who was credited, the Deal card follows
    (out of band) and the score card refreshes for the referral bonus."""
    lead = _lead_for(request, pk)
    form = LeadReferrerForm(request.POST, lead=lead)
    if form.is_valid():
        try:
            # Rescored before the answer: the prompt promises the referral bonus, and the score
            # card (leadScored) shows it at once rather than after the worker's run.
            services.lead_update(
                lead=lead,
                user=request.user,
                rescore_now=True,
                referred_by=form.cleaned_data["referred_by"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
    if form.errors:
        if wants_partial(request):
            context = {"lead": _lead_for(request, pk), "referrer_form": form}
            return render_region(
                request, "leads/lead_detail.html", "who-referred", context, status=422
            )
        messages.error(request, "Not saved: " + "; ".join(form_error_messages(form)))
        return redirect("lead-detail", pk=pk)
    lead = _lead_for(request, pk)
    if not wants_partial(request):
        messages.success(request, f"Credited {lead.referred_by} for referring {lead}.")
        return redirect("lead-detail", pk=pk)
    context = {**_detail_context(request, lead), "referrer_answered": True, "deal_oob": True}
    response = HttpResponse(
        render_to_string("leads/lead_detail.html#who-referred", context, request=request)
        + render_to_string("leads/lead_detail.html#lead-deal", context, request=request)
    )
    return trigger(response, "leadChanged", "leadScored")


@require_POST
def lead_stage(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Move a lead to another stage (the lead page, the pipeline board and its keyboard menu).

    htmx gets the region that sent the move back: a refused move as the form with the reason
    next to the field (422), a move as a message naming the lead, with Undo. `page` says which
    region: the board's card form ("board", the default) or the lead page's stage card ("lead").
    """
    lead = _lead_for(request, pk)
    form = StageForm(request.POST)
    stage_change = None
    if form.is_valid():
        try:
            services.lead_change_stage(
                lead=lead,
                to_stage=form.cleaned_data["to_stage"],
                user=request.user,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            stage_change = lead.stage_changes.order_by("-changed_at", "-id").first()
    lead = _lead_for(request, pk)
    if not wants_partial(request):
        if form.errors:
            messages.error(request, f"{lead} was not moved: " + " ".join(form_error_messages(form)))
        else:
            messages.success(request, _moved_message(request, lead, stage_change))
        return redirect(next_url(request, reverse("lead-detail", args=[pk])))
    if request.POST.get("page") == "lead":
        return _lead_stage_region(request, lead, form=form, stage_change=stage_change)
    if form.errors:
        context = {
            "lead": lead,
            "stages": Stage.choices,
            "move_error": " ".join(form_error_messages(form)),
        }
        response = render(request, "leads/pipeline.html#board-move-form", context, status=422)
        # The board sends moves with #messages as the target; a refusal belongs on the card.
        return reswap(retarget(response, f"#move-form-{lead.pk}"), "outerHTML")
    context = {"text": f"{lead} moved to {lead.get_stage_display()}.", "stage_change": stage_change}
    response = render(request, "leads/pipeline.html#pipeline-moved", context)
    # The board (or any region listening for leadChanged) reloads itself.
    return trigger(response, "leadChanged")


@require_POST
def lead_stage_undo(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Undo a move from its message: the lead goes back through the same stage service."""
    stage_change = get_object_or_404(selectors.stage_changes_visible_to(request.user), pk=pk)
    problem = ""
    try:
        services.lead_stage_undo(stage_change=stage_change, user=request.user)
    except ValidationError as error:
        problem = " ".join(error.messages)
    lead = _lead_for(request, stage_change.lead_id)
    text = problem or f"Undone: {lead} is back in {lead.get_stage_display()}."
    if not wants_partial(request):
        (messages.error if problem else messages.success)(request, text)
        return redirect(next_url(request, reverse("lead-detail", args=[lead.pk])))
    status = 422 if problem else 200
    if request.POST.get("page") == "lead":
        response = _lead_stage_region(
            request,
            lead,
            form=StageForm(initial={"to_stage": lead.stage}),
            moved_text=text,
            refused=bool(problem),
        )
    else:
        context = {"text": text, "undone": True, "refused": bool(problem)}
        response = render(request, "leads/pipeline.html#pipeline-moved", context, status=status)
    return response if problem else trigger(response, "leadChanged")


def _lead_stage_region(
    request: AuthenticatedHttpRequest,
    lead,
    *,
    form: StageForm,
    stage_change=None,
    moved_text: str = "",
    refused: bool = False,
) -> HttpResponse:
    """The lead page's stage card: the form (with errors, 422), or what moved and Undo;
    `refused` says `moved_text` is why an undo was refused (422 too)."""
    if not form.errors:
        form = StageForm(initial={"to_stage": lead.stage})
        if stage_change is not None:
            moved_text = f"{lead} moved to {lead.get_stage_display()}."
    context = {
        "lead": lead,
        "stage_form": form,
        "stage_change": stage_change,
        "moved_text": moved_text,
        "refused": refused,
    }
    status = 422 if form.errors or refused else 200
    response = render(request, "leads/lead_detail.html#lead-stage", context, status=status)
    # The timeline and next step show the move.
    return trigger(response, "leadChanged") if moved_text and not refused else response


def _moved_message(request: AuthenticatedHttpRequest, lead, stage_change) -> str:
    """The flash message after a move without JavaScript: the lead's name, and Undo."""
    return format_html(
        "{} moved to {}. "
        '<form method="post" action="{}" class="message-action">'
        '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
        '<input type="hidden" name="next" value="{}">'
        '<button type="submit" class="button button-small">Undo</button>'
        "</form>",
        lead,
        lead.get_stage_display(),
        reverse("lead-stage-undo", args=[stage_change.pk]),
        get_token(request),
        next_url(request, reverse("lead-detail", args=[lead.pk])),
    )


@require_POST
def lead_activity_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    lead = _lead_for(request, pk)
    form = ActivityForm(request.POST)
    next_form = NextStepForm(request.POST, user=request.user, auto_id="lead-%s")
    if form.is_valid() and next_form.is_valid():
        try:
            services.activity_log(
                lead=lead, user=request.user, next_step=next_form.next_step(), **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
    if form.errors or next_form.errors:
        context = {
            **_detail_context(request, lead),
            "activity_form": _watching(form, lead),
            "next_form": next_form,
        }
        return render_region(request, "leads/lead_detail.html", "lead-log", context, status=422)
    if wants_partial(request):
        context = {**_detail_context(request, lead), "logged": True}
        response = render_region(request, "leads/lead_detail.html", "lead-log", context)
        return trigger(response, "leadChanged")
    messages.success(request, "Logged.")
    return redirect("lead-detail", pk=pk)


@require_http_methods(["GET", "POST"])
def lead_follow_up(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """POST plans the lead's next follow-up. GET gives the lead page's "Plan a different
    follow-up" form, asked for when its panel opens (without JavaScript: the lead page with
    the panel open)."""
    if request.method == "GET":
        return _follow_up_form_page(request, pk)
    lead = _lead_for(request, pk)
    # Its own ids, as on the page: the activity form there also has a "kind" field.
    form = FollowUpForm(request.POST, user=request.user, auto_id="follow_up_%s")
    if not form.is_valid():
        # The card with its panel open, the errors next to the fields and what was typed kept;
        # without JavaScript, the whole lead page around it.
        context = {**_detail_context(request, lead), "follow_up_form": form}
        return render_region(
            request, "leads/lead_detail.html", "lead-follow-up", context, status=422
        )
    services.follow_up_schedule(
        lead=lead,
        user=request.user,
        due_at=form.cleaned_data["due_at"],
        kind=form.cleaned_data["kind"],
        note=form.cleaned_data["note"],
    )
    if wants_partial(request):
        return trigger(HttpResponse(status=204), "leadChanged")
    messages.success(request, "Follow-up planned.")
    return redirect("lead-detail", pk=pk)


def _follow_up_form_page(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    if wants_partial(request):
        # The form alone needs the lead's id, not the related rows the whole page shows.
        lead = get_object_or_404(selectors.leads_visible_to(request.user), pk=pk)
        context = {"lead": lead, "follow_up_form": _blank_follow_up_form(request)}
        return render(request, "leads/lead_detail.html#plan-follow-up-form", context)
    lead = _lead_for(request, pk)
    context = {**_detail_context(request, lead), "follow_up_form": _blank_follow_up_form(request)}
    return render(request, "leads/lead_detail.html", context)


def _blank_follow_up_form(request: AuthenticatedHttpRequest) -> FollowUpForm:
    # Its own ids, as on the page: the activity form there also has a "kind" field.
    return FollowUpForm(user=request.user, auto_id="follow_up_%s")


# --- Merging -------------------------------------------------------------------------------

MERGE_COMPARE = "leads/lead_merge_compare.html"


@require_GET
def lead_merge_pick(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Step 1 of a merge: find the other lead among the same salesperson's leads."""
    lead = _lead_for(request, pk)
    search = MergeSearchForm(request.GET or None)
    query = search.cleaned_data["q"] if search.is_valid() else ""
    context = {
        "title": f"Merge {lead}",
        "lead": lead,
        "search": search,
        "query": query,
        "candidates": merging.merge_candidates(lead, request.user, query),
    }
    return render_region(request, "leads/lead_merge_pick.html", "merge-candidates", context)


@require_GET
def lead_merge_compare(request: AuthenticatedHttpRequest, pk: int, other_pk: int) -> HttpResponse:
    """Step 2: the two leads side by side; pick whose value to keep where they differ."""
    pair = _merge_pair(request, pk, other_pk)
    if isinstance(pair, HttpResponse):
        return pair
    survivor, duplicate = pair
    preview = merging.lead_merge_preview(survivor=survivor, duplicate=duplicate)
    context = _compare_context(survivor, duplicate, preview, LeadMergeForm(rows=preview.choices))
    return render_region(request, MERGE_COMPARE, "merge-compare", context)


@require_POST
def lead_merge(request: AuthenticatedHttpRequest, pk: int, other_pk: int) -> HttpResponse:
    """Merge `other_pk` into `pk`; back to the kept lead, with an "Undo merge" button."""
    pair = _merge_pair(request, pk, other_pk)
    if isinstance(pair, HttpResponse):
        return pair
    survivor, duplicate = pair
    preview = merging.lead_merge_preview(survivor=survivor, duplicate=duplicate)
    form = LeadMergeForm(request.POST, rows=preview.choices)
    if form.is_valid():
        try:
            merge = merge_writes.lead_merge(
                survivor=survivor,
                duplicate=duplicate,
                by=request.user,
                field_choices=form.cleaned_data,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                format_html(
                    "Merged {} (#{}) into {} (#{}). "
                    '<form method="post" action="{}" class="message-action">'
                    '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
                    '<button type="submit" class="button button-small">Undo merge</button>'
                    "</form>",
                    merge.duplicate_name,
                    merge.duplicate_id,
                    merge.survivor_name,
                    survivor.pk,
                    reverse("lead-merge-undo", args=[merge.pk]),
                    get_token(request),
                ),
            )
            return _go_to(request, reverse("lead-detail", args=[survivor.pk]))
    context = _compare_context(survivor, duplicate, preview, form)
    return render_region(request, MERGE_COMPARE, "merge-compare", context, status=422)


@require_POST
def lead_merge_undo(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Undo a merge: the merged lead comes back with everything that moved."""
    merge = get_object_or_404(merging.merges_visible_to(request.user), pk=pk)
    try:
        undone = merge_writes.lead_merge_undo(merge=merge, by=request.user)
    except ValidationError as error:
        problem = " ".join(error.messages)
        if wants_partial(request):
            return HttpResponse(problem, status=422, content_type="text/plain; charset=utf-8")
        messages.error(request, problem)
        back = (
            reverse("lead-detail", args=[merge.survivor_id])
            if merge.survivor_id
            else reverse("lead-list")
        )
        return redirect(back)
    text = format_html(
        'Merge undone: <a href="{}">{}</a> is a lead of its own again.',
        reverse("lead-detail", args=[undone.restored.pk]),
        undone.restored,
    )
    if undone.kept_edits:
        text = format_html(
            "{} Your later edits to {} stay as they are.", text, ", ".join(undone.kept_edits)
        )
    messages.success(request, text)
    return _go_to(request, reverse("lead-detail", args=[undone.survivor.pk]))


def _merge_pair(request: AuthenticatedHttpRequest, pk: int, other_pk: int):
    """The lead kept and the lead merged into it, both visible to the user; or, when they
    can't be merged, a redirect back to the picker saying why."""
    leads = {
        lead.pk: lead
        for lead in selectors.leads_visible_to(request.user)
        .select_related("company", "owner", "referred_by")
        .filter(pk__in=[pk, other_pk])
    }
    if pk not in leads or other_pk not in leads:
        raise Http404("No such lead")
    problem = ""
    if pk == other_pk:
        problem = "Pick another lead: a lead can't be merged with itself."
    elif leads[pk].owner_id != leads[other_pk].owner_id:
        problem = "Both leads must belong to the same salesperson to be merged."
    if problem:
        messages.error(request, problem)
        return _go_to(request, reverse("lead-merge-pick", args=[pk]))
    return leads[pk], leads[other_pk]


def _compare_context(survivor, duplicate, preview, form) -> dict:
    choices = {row.name: form[row.name] for row in preview.choices}
    rows = [
        {
            "field": row,
            "choice": choices.get(row.name),
            "picked": str(choices[row.name].value()) if row.name in choices else "",
        }
        for row in preview.rows
        if row.outcome != "same"
    ]
    return {
        "title": f"Merge {duplicate} into {survivor}",
        "survivor": survivor,
        "duplicate": duplicate,
        "preview": preview,
        "form": form,
        "rows": rows,
        "same": [row.label for row in preview.rows if row.outcome == "same"],
    }


def _go_to(request: AuthenticatedHttpRequest, url: str) -> HttpResponse:
    """A redirect; for htmx, one the browser follows as a whole page."""
    if wants_partial(request):
        return HttpResponseClientRedirect(url)
    return redirect(url)


# --- Companies -----------------------------------------------------------------------------

COMPANY_PAGE = "leads/company_detail.html"


def _company_for(request: AuthenticatedHttpRequest, pk: int) -> Company:
    return get_object_or_404(selectors.companies_visible_to(request.user), pk=pk)


def _company_context(request: AuthenticatedHttpRequest, company: Company) -> dict:
    return {
        "title": company.name,
        "company": company,
        "summary": selectors.company_summary(request.user, company),
    }


@require_GET
def company_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """A company's facts, its contacts (the leads at it) and their open and won value."""
    company = _company_for(request, pk)
    region = "company-facts" if request.GET.get("region") == "company-facts" else "company-leads"
    return render_region(request, COMPANY_PAGE, region, _company_context(request, company))


@require_http_methods(["GET", "POST"])
def company_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The company page's facts card: GET gives the form, POST saves it. Its leads are
    rescored before the response; `companyChanged` reloads the contacts with their scores."""
    company = _company_for(request, pk)
    region = "company-facts"
    if request.method == "GET":
        context = _company_edit_context(request, company, CompanyForm(instance=company))
        return render_region(request, COMPANY_PAGE, region, context)
    # No instance: the form's validation must not leave its values on the company.
    form = CompanyForm(request.POST)
    if form.is_valid():
        try:
            services.company_update(company=company, user=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
    if form.errors:
        company = _company_for(request, pk)  # as it is stored, not as the refused edit left it
        context = _company_edit_context(request, company, form)
        return render_region(request, COMPANY_PAGE, region, context, status=422)
    if not wants_partial(request):
        messages.success(request, "Saved. The contacts' scores are up to date.")
        return redirect("company-detail", pk=pk)
    response = render_region(request, COMPANY_PAGE, region, {"company": company})
    # The page's header names the company and its industry: it comes along out of band.
    response.content += render_to_string(
        f"{COMPANY_PAGE}#company-header", {"company": company, "out_of_band": True}, request
    ).encode()
    return trigger(response, "companyChanged")


def _company_edit_context(
    request: AuthenticatedHttpRequest, company: Company, form: CompanyForm
) -> dict:
    context = {"company": company} if wants_partial(request) else _company_context(request, company)
    return {
        **context,
        "editing": True,
        "company_form": form,
        "industries": selectors.company_industries(request.user),
    }


# --- Pipeline ------------------------------------------------------------------------------


@require_GET
def pipeline(request: AuthenticatedHttpRequest) -> HttpResponse:
    owner_id = _owner_param(request)
    context = {
        "title": "Pipeline",
        "columns": selectors.pipeline_board(request.user, owner_id=owner_id),
        "stages": Stage.choices,
        "owners": _owners_for(request.user),
        "owner_id": owner_id,
    }
    return render_region(request, "leads/pipeline.html", "pipeline-board", context)


@require_GET
def pipeline_cards(request: AuthenticatedHttpRequest, stage: str) -> HttpResponse:
    """A page of a column's cards: the board asks for each column's first page as it opens,
    and for the next one from its "Show more" button."""
    if stage not in Stage.values:
        raise Http404("No such stage")
    if not wants_partial(request):
        return redirect("pipeline")
    owner_id = _owner_param(request)
    context = {
        "stage": stage,
        "page": selectors.pipeline_cards(
            request.user, stage=stage, owner_id=owner_id, after=request.GET.get("after", "")
        ),
        "stages": Stage.choices,
        "owner_id": owner_id,
        "show_owner": request.user.is_manager and not owner_id,
    }
    return render(request, "leads/pipeline.html#pipeline-cards", context)


@require_GET
def pipeline_column(request: AuthenticatedHttpRequest, stage: str) -> HttpResponse:
    """All the leads of one stage: the board's "more" link."""
    if stage not in Stage.values:
        raise Http404("No such stage")
    return redirect(f"{reverse('lead-list')}?stage={stage}&sort=score")


def _owner_param(request: AuthenticatedHttpRequest) -> int | None:
    value = request.GET.get("owner", "")
    return int(value) if value.isdigit() else None
