"""Start-up runs without the cyclic garbage collector, and ends with it back on and start-up's objects frozen."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from app.__main__ import collector_paused


@pytest.fixture
def unfrozen() -> Iterator[None]:
    """Give the test process's objects back to the collector afterwards."""
    yield
    gc.unfreeze()


@pytest.mark.usefixtures("unfrozen")
def test_the_collector_is_paused_during_start_up_and_back_after_it() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        made = [[] for _ in range(1000)]
    assert gc.isenabled()
    assert gc.get_freeze_count() >= len(made)


@pytest.mark.usefixtures("unfrozen")
def test_a_start_up_that_fails_still_turns_the_collector_back_on() -> None:
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("bad setting")
    assert gc.isenabled()
