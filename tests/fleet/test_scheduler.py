"""The discrete-event scheduler: virtual time for threads, deterministic, never a hang."""

from __future__ import annotations

import datetime as _dt
import threading

import pytest

from emulator import scheduler as S
from emulator.clock import EmulatedClock

START = _dt.datetime(2026, 11, 23, 1, tzinfo=_dt.UTC)


def run_workers(plans: dict[str, list[float]]) -> list[tuple[float, str]]:
    """Start one thread per plan; each sleeps its intervals and logs (time, name)."""
    scheduler = S.Scheduler(START, stall_seconds=30)
    log: list[tuple[float, str]] = []

    def worker(name: str, delays: list[float]) -> None:
        for delay in delays:
            S.sleep(delay)
            log.append((round(scheduler.now(), 6), name))

    with scheduler.driving():
        for name, delays in plans.items():
            S.VirtualThread(target=worker, args=(name, delays), name=name, daemon=True).start()
    return log


def test_sleepers_wake_in_virtual_time_order_ties_in_arrival_order() -> None:
    log = run_workers({"a": [2.0, 5.0], "b": [1.0, 1.0, 86400.0], "c": [2.0]})
    assert log == [
        (1.0, "b"),
        (2.0, "a"),  # a, c and b are all due at 2: in the order they went to sleep
        (2.0, "c"),
        (2.0, "b"),
        (7.0, "a"),
        (86402.0, "b"),  # a day passes in no time
    ]


def test_same_inputs_same_schedule() -> None:
    plans = {f"w{i}": [0.5 * (i % 3), 1.0, 0.25 * i] for i in range(30)}
    assert run_workers(plans) == run_workers(plans)


def test_events_conditions_and_joins_wait_in_virtual_time() -> None:
    scheduler = S.Scheduler(START, stall_seconds=30)
    seen: dict[str, object] = {}
    with scheduler.driving():
        event = S.Event()
        assert isinstance(event, S.VirtualEvent)

        def setter() -> None:
            S.sleep(10)
            event.set()

        S.VirtualThread(target=setter).start()
        seen["timed_out"] = event.wait(4)  # times out at virtual 4 s
        seen["at_timeout"] = scheduler.now()
        seen["set"] = event.wait(100)
        seen["at_set"] = scheduler.now()

        sleeper = S.VirtualThread(target=S.sleep, args=(50,))
        sleeper.start()
        sleeper.join(5)
        seen["alive_after_join_timeout"] = sleeper.is_alive()
        sleeper.join()
        seen["at_join"] = scheduler.now()
    assert seen == {
        "timed_out": False,
        "at_timeout": 4.0,
        "set": True,
        "at_set": 10.0,
        "alive_after_join_timeout": True,
        "at_join": 60.0,
    }


def test_pool_and_semaphore_keep_submission_order() -> None:
    scheduler = S.Scheduler(START, stall_seconds=30)
    done: list[tuple[float, int]] = []

    def job(index: int) -> int:
        S.sleep(1.0)
        done.append((scheduler.now(), index))
        return index * 2

    with scheduler.driving():
        slots = S.BoundedSemaphore(3)
        with S.ThreadPoolExecutor(max_workers=2) as pool:
            futures = []
            for index in range(6):
                slots.acquire()
                future = pool.submit(job, index)
                future.add_done_callback(lambda _: slots.release())
                futures.append(future)
        results = [f.result() for f in futures]
    assert results == [0, 2, 4, 6, 8, 10]
    assert done == [(1.0, 0), (1.0, 1), (2.0, 2), (2.0, 3), (3.0, 4), (3.0, 5)]


def _wait_for_what_never_comes(scheduler: S.Scheduler) -> None:
    with scheduler.driving():
        never = S.Event()
        S.VirtualThread(target=never.wait, name="waits-forever", daemon=True).start()
        S.Event().wait()


def test_deadlock_is_reported_not_hung() -> None:
    scheduler = S.Scheduler(START, stall_seconds=30)
    with pytest.raises(S.SchedulerDeadlock, match="every participant is blocked") as raised:
        _wait_for_what_never_comes(scheduler)
    assert "waits-forever" in str(raised.value)


def _block_on_a_real_lock(scheduler: S.Scheduler, real_lock: threading.Lock) -> None:
    with scheduler.driving():
        S.VirtualThread(target=real_lock.acquire, name="stuck", daemon=True).start()
        S.sleep(1)


def test_a_thread_blocked_outside_the_scheduler_is_reported() -> None:
    scheduler = S.Scheduler(START, stall_seconds=1)
    real_lock = threading.Lock()
    real_lock.acquire()
    with pytest.raises(S.SchedulerStalled, match="holds the baton") as raised:
        _block_on_a_real_lock(scheduler, real_lock)
    real_lock.release()
    assert "stuck" in str(raised.value)


def test_clock_follows_the_scheduler_while_attached() -> None:
    clock = EmulatedClock()
    scheduler = S.Scheduler(START, stall_seconds=30)
    clock.attach(scheduler)
    try:
        with scheduler.driving():
            assert clock.now() == START
            clock.advance(90, kind="wait")  # the calling participant sleeps
            assert clock.now() == START + _dt.timedelta(seconds=90)
    finally:
        clock.detach()
    assert clock.now() >= START + _dt.timedelta(seconds=90)  # never goes back


def test_outside_a_participant_primitives_are_the_real_ones() -> None:
    assert not isinstance(S.Event(), S.VirtualEvent)
    with pytest.raises(S.SchedulerError, match="not a participant"):
        S.Scheduler(START).sleep(1)
