from __future__ import annotations

import gc
import weakref

import pytest

from leadhunter.gc_pause import cyclic_gc_paused


@pytest.fixture
def collections():
    """The generation of each collection run while the test runs (gc.callbacks sees each)."""
    seen: list[int] = []

    def record(phase, info):
        if phase == "start":
            seen.append(info["generation"])

    gc.callbacks.append(record)
    yield seen
    gc.callbacks.remove(record)


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def test_the_collector_is_paused_inside_and_back_on_after(collections):
    assert gc.isenabled()
    with cyclic_gc_paused():
        assert not gc.isenabled()
        assert collections == []
    assert gc.isenabled()


def test_it_comes_back_on_after_an_error_too():
    with pytest.raises(ZeroDivisionError), cyclic_gc_paused():
        1 / 0  # noqa: B018
    assert gc.isenabled()


def test_a_nested_pause_leaves_the_outer_one_in_charge(collections):
    with cyclic_gc_paused(collect_after=True):
        with cyclic_gc_paused(collect_after=True):
            pass
        assert not gc.isenabled()
        assert collections == []
    assert gc.isenabled()
    assert collections[:1] == [0]  # the youngest generation's, not a full one


@pytest.fixture
def no_automatic_collections():
    """Only explicit collections run: the collector's own would free cycles by themselves."""
    thresholds = gc.get_threshold()
    gc.set_threshold(10**9)
    yield
    gc.set_threshold(*thresholds)


def test_the_cycles_made_during_the_pause_are_freed_at_its_end(
    no_automatic_collections, collections
):
    with cyclic_gc_paused(collect_after=True):
        first, second = Node(), Node()
        first.other, second.other = second, first
        last = weakref.ref(first)
        del first, second
        assert last() is not None  # reference counting alone cannot free a cycle

    assert last() is None
    assert collections == [0]


def test_a_collector_switched_off_by_someone_else_stays_off(collections):
    gc.disable()
    try:
        with cyclic_gc_paused(collect_after=True):
            pass
        assert not gc.isenabled()
        assert collections == []
    finally:
        gc.enable()
