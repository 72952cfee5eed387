"""How well the win probability predicts: train on the deals closed before a date, score the
deals closed on or after it, and print the calibration and the Brier score.

    python manage.py backtest_win_probability --before 2026-09-01

Each owner's model learns from their own deals closed before the date (as the lead page would
have on that day). Every deal closed on or after it is scored at each open stage its history
went through, with its source, and compared with how it closed. The same scores from the
priors alone (no history) are printed beside them: what learning from the history adds.
"""

from __future__ import annotations

from datetime import date, datetime, time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from forecast.probability import Calibration, History, calibration, win_probability
from forecast.selectors import closed_deal_groups, histories_by_owner
from leads.models import CLOSED_STAGES, Lead


class Command(BaseCommand):
    help = __doc__.split("\n")[0]

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--before",
            type=date.fromisoformat,
            help="Train on deals closed before this date (YYYY-MM-DD); default: the median "
            "closing date, so half the deals train and half are scored.",
        )
        parser.add_argument("--bins", type=int, default=10, help="Calibration bins (default 10).")

    def handle(self, *args, **options) -> None:
        closed = Lead.objects.filter(stage__in=CLOSED_STAGES)
        before = options["before"]
        if before is None:
            before = _median_close(closed)
            if before is None:
                raise CommandError("No closed deals: nothing to backtest.")
        cutoff = timezone.make_aware(datetime.combine(before, time.min))
        histories = histories_by_owner(closed.filter(stage_changed_at__lt=cutoff))
        scored = closed_deal_groups(closed.filter(stage_changed_at__gte=cutoff))
        model: list[tuple[float, bool]] = []
        prior: list[tuple[float, bool]] = []
        deals = 0
        for owner_id, group in scored:
            deals += group.count
            history = histories.get(owner_id, History())
            for stage in group.stages_reached():
                learned = win_probability(history, stage=stage, source=group.source)
                usual = win_probability(History(), stage=stage, source=group.source)
                model += [(learned.probability, group.won)] * group.count
                prior += [(usual.probability, group.won)] * group.count
        trained = sum(history.deals for history in histories.values())
        self.stdout.write(
            f"Trained on {trained} deals closed before {before.isoformat()}; scored {deals} "
            f"deals closed on or after it at each open stage they went through "
            f"({len(model)} predictions)."
        )
        if not model:
            raise CommandError("No deal closed on or after that date went through an open stage.")
        won = sum(1 for _, outcome in model if outcome)
        self.stdout.write(f"Observed win rate over the predictions: {won / len(model):.1%}")
        self._print(
            "Model (priors updated by each owner's history)",
            calibration(model, bins=options["bins"]),
        )
        self._print("Priors alone (no history)", calibration(prior, bins=options["bins"]))

    def _print(self, title: str, result: Calibration) -> None:
        self.stdout.write("")
        self.stdout.write(f"{title}: Brier score {result.brier:.4f}")
        self.stdout.write(f"  {'predicted':>11}  {'n':>6}  {'mean predicted':>14}  {'observed':>8}")
        for row in result.bins:
            if not row.predictions:
                continue
            self.stdout.write(
                f"  {row.low:>4.0%}–{row.high:<5.0%}  {row.predictions:>6}  "
                f"{row.mean_predicted:>14.1%}  {row.observed:>8.1%}"
            )


def _median_close(closed) -> date | None:
    count = closed.count()
    if not count:
        return None
    moment = closed.order_by("stage_changed_at").values_list("stage_changed_at", flat=True)[
        count // 2
    ]
    return timezone.localdate(moment)
