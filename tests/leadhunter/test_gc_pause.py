from __future__ import annotations

import gc

import pytest

from leadhunter.gc_pause import cyclic_gc_paused


@pytest.fixture
def full_collections():
    """The full collections run while the test runs (gc.callbacks sees every one)."""
    seen: list[int] = []

    def record(phase, info):
        if phase == "start" and info["generation"] == 2:
            seen.append(1)

    gc.callbacks.append(record)
    yield seen
    gc.callbacks.remove(record)


def test_the_collector_is_paused_inside_and_back_on_after(full_collections):
    assert gc.isenabled()
    with cyclic_gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    assert full_collections == []


def test_it_comes_back_on_after_an_error_too():
    with pytest.raises(ZeroDivisionError), cyclic_gc_paused():
        1 / 0  # noqa: B018
    assert gc.isenabled()


def test_a_nested_pause_leaves_the_outer_one_in_charge(full_collections):
    with cyclic_gc_paused(collect_after=True):
        with cyclic_gc_paused(collect_after=True):
            pass
        assert not gc.isenabled()
        assert full_collections == []
    assert gc.isenabled()
    assert full_collections == [1]


def test_a_collector_switched_off_by_someone_else_stays_off(full_collections):
    gc.disable()
    try:
        with cyclic_gc_paused(collect_after=True):
            pass
        assert not gc.isenabled()
        assert full_collections == []
    finally:
        gc.enable()
