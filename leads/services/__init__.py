"""Writes to leads, companies, activities and follow-ups: the only way the app changes them.

Each service validates, writes inside one transaction, keeps the denormalised fields Today relies
on (next_follow_up_at, last_contacted_at, …) in step, and asks for a rescore after commit. The
package is split by topic; this module is its public interface, so callers import from
`leads.services` and never from a topic module's private names:

- `companies`: a company's facts (and the rescoring of its leads when scored facts change)
- `leads`: one lead's life: create (with its company), quick add, edit, bulk actions, delete
- `stages`: moving a lead through the pipeline, and undoing a move
- `activities`: logging touches and signals, completing and snoozing follow-ups
- `schedule`: the cadence's next follow-up for a lead (used by the three above)
- `reconnects`: the network pool's reconnects, spread a few a day
- `reassign`: handing leads and companies to another salesperson
- `bulk`: many leads at once for imports, validated in memory
- `bulk_sql`: the hand-written SQL behind `bulk` and `reconnects` (history rows, multi-row inserts,
  JSON-parameter updates on PostgreSQL)
- `validation`: normalising and validating a lead, an activity or a company before a write
- `merging`: merging two leads and undoing it (imported from `leads.services.merging` itself:
  see its docstring)
"""

from __future__ import annotations

from leads.services.activities import (
    NextStep,
    activity_log,
    activity_log_preview,
    follow_up_complete,
    follow_up_snooze,
    follow_ups_schedule_missing,
)
from leads.services.bulk import (
    companies_bulk_set_domain,
    company_new,
    lead_new,
    leads_bulk_create,
    leads_bulk_fill_empty_fields,
)
from leads.services.companies import (
    company_create,
    company_find_or_create,
    company_update,
)
from leads.services.leads import (
    lead_company_update,
    lead_create,
    lead_delete,
    lead_quick_add,
    lead_update,
    leads_bulk_action,
    leads_mark_email_bouncing,
)
from leads.services.reassign import (
    CompaniesReassignResult,
    ReassignResult,
    companies_reassign,
    leads_reassign,
)
from leads.services.reconnects import (
    RECONNECT_RULE,
    lead_reconnect_add,
    reconnect_slots,
    reconnects_plan,
    reconnects_plan_after_settings,
    reconnects_plan_all,
)
from leads.services.schedule import follow_up_schedule
from leads.services.stages import lead_change_stage, lead_stage_undo
from leads.services.validation import EDITABLE_LEAD_FIELDS, check_email, passes_clean

__all__ = [
    "EDITABLE_LEAD_FIELDS",
    "RECONNECT_RULE",
    "CompaniesReassignResult",
    "NextStep",
    "ReassignResult",
    "activity_log",
    "activity_log_preview",
    "check_email",
    "companies_bulk_set_domain",
    "companies_reassign",
    "company_create",
    "company_find_or_create",
    "company_new",
    "company_update",
    "follow_up_complete",
    "follow_up_schedule",
    "follow_up_snooze",
    "follow_ups_schedule_missing",
    "lead_change_stage",
    "lead_company_update",
    "lead_create",
    "lead_delete",
    "lead_new",
    "lead_quick_add",
    "lead_reconnect_add",
    "lead_stage_undo",
    "lead_update",
    "leads_bulk_action",
    "leads_bulk_create",
    "leads_bulk_fill_empty_fields",
    "leads_mark_email_bouncing",
    "leads_reassign",
    "passes_clean",
    "reconnect_slots",
    "reconnects_plan",
    "reconnects_plan_after_settings",
    "reconnects_plan_all",
]
