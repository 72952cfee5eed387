"""Fixtures shared by the leads tests."""

from __future__ import annotations

import pytest

from icp import rescoring
from leads import dependents


@pytest.fixture
def rescores():
    """The rescoring lead writes ask for, recorded instead of enqueued (scoring now still runs)."""
    requested: list[tuple[str, int]] = []

    class Recorded:
        @staticmethod
        def request_rescore(lead_id: int) -> None:
            requested.append(("lead", lead_id))

        @staticmethod
        def request_owner_rescore(owner_id: int) -> None:
            requested.append(("owner", owner_id))

        leads_rescore_now = staticmethod(rescoring.leads_rescore_now)

    dependents.rescoring_register(Recorded())
    yield requested
    dependents.rescoring_register(rescoring)
