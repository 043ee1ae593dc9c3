"""A discrete-event scheduler over real threads: virtual time that stays right under concurrency.

Many Step Functions executions run at once in one emulator (moto's interpreter runs
each execution, and each Task state, in a thread of its own). Each thread that takes
part in the emulation is a *participant*. Only one participant runs at a time: it
holds the *baton*. A participant gives the baton up only when it blocks on the
scheduler: it sleeps (a Wait state, a Retry interval, an API call's latency), waits
on a virtual event, condition or semaphore, or joins a thread. Then the scheduler
hands the baton to the participant due first: the earliest wake time, ties broken by
the order in which they became due (a sequence number). Virtual time jumps to that
wake time. A new thread started by a participant joins as a participant, due now.

Why the result does not depend on the host: every decision (who runs next, what time
it is) is taken by the one running participant, from the queue's order, which the
participants' own actions (in that single order) built. Nothing reads the real clock.
Given the same inputs and seeds, a run takes the same steps in the same order.

Blocking outside the scheduler would hang the run: a participant that blocks on a
real lock held by a parked participant, or loops forever. Two guards:

* a deadlock (every participant blocked, nobody due) is detected at once, and the
  driver (the thread that opened ``Scheduler.driving()``) raises ``SchedulerDeadlock``
  with every participant's state;
* a stall (the baton has not moved for ``stall_seconds`` of real time) makes the
  driver raise ``SchedulerStalled`` with the stack of the thread holding the baton.

Neither is a timing assumption about results: they only turn a hang into an error.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as _dt
import heapq
import itertools
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import Any

_active: list[Scheduler] = []  # the scheduler being driven, if any (one at a time)

RUNNING, READY, WAITING, DONE = "running", "ready", "waiting", "done"


class SchedulerError(RuntimeError):
    """The scheduled run cannot go on."""


class SchedulerDeadlock(SchedulerError):
    """Every participant waits for something no participant will do."""


class SchedulerStalled(SchedulerError):
    """The participant holding the baton blocked outside the scheduler (or never yields)."""


def active() -> Scheduler | None:
    return _active[0] if _active else None


def current() -> tuple[Scheduler, Participant] | None:
    """The active scheduler and the calling thread's participant, when it is one."""
    scheduler = active()
    if scheduler is None:
        return None
    participant = scheduler.participants.get(threading.get_ident())
    if participant is None or participant.state == DONE:
        return None
    return scheduler, participant


class Participant:
    __slots__ = ("error", "gate", "generation", "ident", "name", "state", "waiting_on", "wake")

    def __init__(self, name: str) -> None:
        self.name = name
        self.ident: int | None = None
        self.gate = threading.Lock()
        self.gate.acquire()  # closed: acquire() blocks until the baton is handed over
        self.state = READY
        self.generation = 0  # bumped at every wake-up: older queue entries are void
        self.wake: float | None = None
        self.waiting_on = ""
        self.error: BaseException | None = None

    def __repr__(self) -> str:
        where = f" until {self.wake:.3f}" if self.wake is not None else ""
        on = f" on {self.waiting_on}" if self.waiting_on else ""
        return f"<{self.name} {self.state}{on}{where}>"


class Scheduler:
    """Virtual time for threads: see the module's docstring."""

    def __init__(self, start: _dt.datetime, *, stall_seconds: float = 120.0) -> None:
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        self.start = start
        self.stall_seconds = stall_seconds
        self._now = 0.0
        self._seq = itertools.count()
        self._queue: list[tuple[float, int, int, Participant]] = []
        self._lock = threading.Lock()
        self.participants: dict[int, Participant] = {}  # by thread ident, once running
        self._members: dict[int, Participant] = {}  # every participant not ended, by id()
        self._abandoned = False
        self.driver: Participant | None = None
        self.running: Participant | None = None
        self.handoffs = 0  # baton hand-overs: progress, for the stall guard
        self.peak_participants = 0
        self._idle_waiters: list[Participant] = []

    # ------------------------------------------------------------------ time
    def now(self) -> float:
        """Virtual seconds since ``start``."""
        return self._now

    def datetime(self) -> _dt.datetime:
        return self.start + _dt.timedelta(seconds=self._now)

    # ------------------------------------------------------------------ the driver
    @contextlib.contextmanager
    def driving(self, name: str = "driver") -> Iterator[Scheduler]:
        """Make the calling thread the driver: a participant holding the baton.

        On a clean exit the driver waits until every other participant has ended.
        """
        if _active:
            raise SchedulerError("another scheduler is being driven")
        driver = Participant(name)
        driver.ident = threading.get_ident()
        driver.state = RUNNING
        with self._lock:
            self.participants[driver.ident] = driver
            self.driver = self.running = driver
        _active.append(self)
        try:
            yield self
            self.wait_idle()
        except BaseException:
            with self._lock:  # whoever still runs parks at its next block, for good
                self._abandoned = True
            raise
        finally:
            _active.clear()
            with self._lock:
                self.participants.pop(driver.ident, None)
                self.driver = None
                if self.running is driver:
                    self.running = None

    def live(self) -> list[Participant]:
        """Participants other than the driver that have not ended."""
        return [p for p in self._members.values() if p.state != DONE]

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block the driver until every other participant has ended (or ``timeout``)."""
        _, me = self._require()
        with self._lock:
            if not self.live():
                return True
            self._idle_waiters.append(me)
        self._block(me, None if timeout is None else self._now + timeout, "idle")
        with self._lock:
            if me in self._idle_waiters:
                self._idle_waiters.remove(me)
        return not self.live()

    # ------------------------------------------------------------------ blocking
    def sleep(self, seconds: float) -> None:
        """Let ``seconds`` of virtual time pass for the calling participant."""
        _, me = self._require()
        self._block(me, self._now + max(0.0, float(seconds)), "sleep")

    def _require(self) -> tuple[Scheduler, Participant]:
        me = self.participants.get(threading.get_ident())
        if me is None or me.state == DONE:
            raise SchedulerError(
                f"thread {threading.current_thread().name!r} is not a participant of the "
                "scheduler (start threads from a participant, or drive the scheduler)"
            )
        return self, me

    def _push(self, participant: Participant, at: float) -> None:
        heapq.heappush(self._queue, (at, next(self._seq), participant.generation, participant))

    def _wake(self, participant: Participant) -> None:
        """Make a waiting participant due now (call with the lock held)."""
        if participant.state != WAITING:
            return
        participant.generation += 1
        participant.state = READY
        participant.wake = self._now
        participant.waiting_on = ""
        self._push(participant, self._now)

    def _next(self) -> Participant | None:
        """Pop the participant due first and move time to its wake time (lock held)."""
        while self._queue:
            at, _, generation, participant = heapq.heappop(self._queue)
            if generation != participant.generation or participant.state == DONE:
                continue
            self._now = max(self._now, at)
            participant.state = RUNNING
            participant.wake = None
            participant.waiting_on = ""
            participant.generation += 1
            return participant
        return None

    def _handoff(self, nxt: Participant | None) -> None:
        """Give the baton to ``nxt`` (lock held), or report a deadlock to the driver."""
        self.handoffs += 1
        if self._abandoned:
            self.running = None
            return
        if nxt is None:
            self.running = None
            error = SchedulerDeadlock(self.describe("deadlock: every participant is blocked"))
            driver = self.driver
            if driver is not None and driver.state != DONE:
                driver.error = error
                driver.state = RUNNING
                driver.generation += 1
                self.running = driver
                driver.gate.release()
            return
        self.running = nxt
        nxt.gate.release()

    def _block(self, me: Participant, until: float | None, on: str) -> None:
        """Give up the baton until woken (or until virtual time ``until``)."""
        with self._lock:
            if me.state != WAITING:
                me.state = WAITING
                me.waiting_on = on
            me.wake = until
            if until is not None:
                self._push(me, until)
            nxt = self._next()
            if nxt is me:  # nobody due before us: go on at once
                return
            self._handoff(nxt)
        self._await_baton(me)

    def _await_baton(self, me: Participant) -> None:
        if me is not self.driver:  # only the driver watches for a stall
            me.gate.acquire()
            return
        seen, quiet = self.handoffs, 0.0
        while not me.gate.acquire(timeout=1.0):
            if self.handoffs != seen:
                seen, quiet = self.handoffs, 0.0
                continue
            quiet += 1.0
            if quiet >= self.stall_seconds:
                raise SchedulerStalled(self._stall_report())
        if me.error is not None:
            error, me.error = me.error, None
            raise error

    def _stall_report(self) -> str:
        holder = self.running
        lines = [
            f"stalled: the baton has not moved for {self.stall_seconds:.0f} s of real time",
            self.describe(""),
        ]
        frame = sys._current_frames().get(holder.ident) if holder and holder.ident else None
        if frame is not None:
            lines.append(f"stack of {holder.name}, which holds the baton:")
            lines.extend(traceback.format_stack(frame))
        return "\n".join(lines)

    def describe(self, headline: str) -> str:
        states = collections.Counter(p.state for p in self.participants.values())
        shown = sorted(self.participants.values(), key=lambda p: p.name)[:40]
        body = "\n".join(f"  {p!r}" for p in shown)
        more = len(self.participants) - len(shown)
        return (
            f"{headline}\nvirtual time {self._now:.3f} s; participants by state "
            f"{dict(states)}\n{body}" + (f"\n  ... and {more} more" if more > 0 else "")
        )

    # ------------------------------------------------------------------ threads
    def _register(self, name: str) -> Participant:
        participant = Participant(name)
        with self._lock:
            self._members[id(participant)] = participant
            self.peak_participants = max(self.peak_participants, len(self._members))
            self._push(participant, self._now)
        return participant

    def _enter(self, participant: Participant) -> None:
        participant.ident = threading.get_ident()
        with self._lock:
            self.participants[participant.ident] = participant
        self._await_baton(participant)

    def _exit(self, participant: Participant) -> None:
        with self._lock:
            participant.state = DONE
            self.participants.pop(participant.ident, None)
            self._members.pop(id(participant), None)
            for waiter in list(participant_joiners(participant)):
                self._wake(waiter)
            if self._idle_waiters and not self._members:
                for waiter in self._idle_waiters:
                    self._wake(waiter)
            self._handoff(self._next())


# ---------------------------------------------------------------------- joiners
_joiners: dict[int, list[Participant]] = {}


def participant_joiners(participant: Participant) -> list[Participant]:
    return _joiners.pop(id(participant), [])


# ---------------------------------------------------------------------- primitives
class VirtualThread(threading.Thread):
    """A thread that joins the active scheduler when a participant starts it.

    Started outside a scheduled run it is an ordinary thread.
    """

    _acb_participant: Participant | None = None
    _acb_scheduler: Scheduler | None = None

    def start(self) -> None:
        found = current()
        if found is not None:
            scheduler, _ = found
            self._acb_scheduler = scheduler
            self._acb_participant = scheduler._register(self.name)
        super().start()

    def run(self) -> None:
        scheduler, participant = self._acb_scheduler, self._acb_participant
        if scheduler is None or participant is None:
            return super().run()
        scheduler._enter(participant)
        try:
            super().run()
        finally:
            scheduler._exit(participant)

    def join(self, timeout: float | None = None) -> None:
        participant, found = self._acb_participant, current()
        if participant is None or found is None:
            return super().join(timeout)
        scheduler, me = found
        with scheduler._lock:
            if participant.state == DONE:
                return None
            _joiners.setdefault(id(participant), []).append(me)
        until = None if timeout is None else scheduler.now() + timeout
        scheduler._block(me, until, f"join {participant.name}")
        with scheduler._lock:
            waiters = _joiners.get(id(participant), [])
            if me in waiters:
                waiters.remove(me)
        return None

    def is_alive(self) -> bool:
        participant = self._acb_participant
        if participant is not None and self._acb_scheduler is not None:
            return participant.state != DONE
        return super().is_alive()


class VirtualEvent:
    """``threading.Event`` on virtual time (waits time out in virtual seconds)."""

    def __init__(self, scheduler: Scheduler) -> None:
        self._scheduler = scheduler
        self._flag = False
        self._waiters: list[Participant] = []

    def is_set(self) -> bool:
        return self._flag

    isSet = is_set

    def set(self) -> None:
        with self._scheduler._lock:
            self._flag = True
            for waiter in self._waiters:
                self._scheduler._wake(waiter)
            self._waiters.clear()

    def clear(self) -> None:
        self._flag = False

    def wait(self, timeout: float | None = None) -> bool:
        if self._flag:
            return True
        scheduler, me = self._scheduler._require()
        with scheduler._lock:
            self._waiters.append(me)
        until = None if timeout is None else scheduler.now() + max(0.0, timeout)
        scheduler._block(me, until, "event")
        with scheduler._lock:
            if me in self._waiters:
                self._waiters.remove(me)
        return self._flag


class VirtualCondition:
    """``threading.Condition`` on virtual time. Its lock is a real one, never contended:
    only the participant holding the baton can hold it, and ``wait`` releases it."""

    def __init__(self, scheduler: Scheduler, lock: Any = None) -> None:
        self._scheduler = scheduler
        self._lock = lock if lock is not None else threading.RLock()
        self._waiters: collections.deque[Participant] = collections.deque()
        self.acquire = self._lock.acquire
        self.release = self._lock.release

    def __enter__(self) -> bool:
        return self._lock.__enter__()

    def __exit__(self, *args: Any) -> None:
        self._lock.__exit__(*args)

    def _release_all(self) -> Any:
        saver = getattr(self._lock, "_release_save", None)
        if saver is not None:
            return saver()
        self._lock.release()
        return None

    def _restore(self, state: Any) -> None:
        restorer = getattr(self._lock, "_acquire_restore", None)
        if restorer is not None:
            restorer(state)
        else:
            self._lock.acquire()

    def wait(self, timeout: float | None = None) -> bool:
        scheduler, me = self._scheduler._require()
        with scheduler._lock:
            self._waiters.append(me)
        saved = self._release_all()
        try:
            until = None if timeout is None else scheduler.now() + max(0.0, timeout)
            scheduler._block(me, until, "condition")
        finally:
            self._restore(saved)
        with scheduler._lock:
            notified = me not in self._waiters
            if not notified:
                self._waiters.remove(me)
        return notified

    def wait_for(self, predicate: Callable[[], Any], timeout: float | None = None) -> Any:
        scheduler = self._scheduler
        end = None if timeout is None else scheduler.now() + timeout
        result = predicate()
        while not result:
            remaining = None if end is None else end - scheduler.now()
            if remaining is not None and remaining <= 0:
                break
            self.wait(remaining)
            result = predicate()
        return result

    def notify(self, n: int = 1) -> None:
        with self._scheduler._lock:
            for _ in range(min(n, len(self._waiters))):
                self._scheduler._wake(self._waiters.popleft())

    def notify_all(self) -> None:
        self.notify(len(self._waiters))

    notifyAll = notify_all


class VirtualSemaphore:
    """``threading.Semaphore`` (and bounded) on virtual time; waiters served in order."""

    def __init__(self, scheduler: Scheduler, value: int = 1, bound: int | None = None) -> None:
        if value < 0:
            raise ValueError("semaphore initial value must be >= 0")
        self._scheduler = scheduler
        self._value = value
        self._bound = bound
        self._waiters: collections.deque[Participant] = collections.deque()

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        scheduler = self._scheduler
        if self._value > 0 and not self._waiters:
            self._value -= 1
            return True
        if not blocking:
            return False
        _, me = scheduler._require()
        end = None if timeout is None else scheduler.now() + timeout
        while True:
            with scheduler._lock:
                if self._value > 0 and (not self._waiters or self._waiters[0] is me):
                    if self._waiters and self._waiters[0] is me:
                        self._waiters.popleft()
                    self._value -= 1
                    return True
                if me not in self._waiters:
                    self._waiters.append(me)
            if end is not None and scheduler.now() >= end:
                with scheduler._lock:
                    if me in self._waiters:
                        self._waiters.remove(me)
                return False
            scheduler._block(me, end, "semaphore")

    __enter__ = acquire

    def __exit__(self, *args: Any) -> None:
        self.release()

    def release(self, n: int = 1) -> None:
        with self._scheduler._lock:
            if self._bound is not None and self._value + n > self._bound:
                raise ValueError("Semaphore released too many times")
            self._value += n
            for waiter in list(self._waiters)[:n]:
                self._scheduler._wake(waiter)


class VirtualThreadPoolExecutor:
    """A ``ThreadPoolExecutor`` whose workers are participants (submit order is kept)."""

    def __init__(self, max_workers: int | None = None, thread_name_prefix: str = "") -> None:
        found = current()
        if found is None:
            raise SchedulerError("VirtualThreadPoolExecutor needs a participant to create it")
        self._scheduler = found[0]
        self._max_workers = max_workers or 8
        self._prefix = thread_name_prefix or "pool"
        self._work: collections.deque[tuple[Future[Any], Callable[..., Any], tuple, dict]] = (
            collections.deque()
        )
        self._ready = VirtualCondition(self._scheduler)
        self._workers: list[VirtualThread] = []
        self._idle = 0
        self._shutdown = False

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        if self._shutdown:
            raise RuntimeError("cannot schedule new futures after shutdown")
        future: Future[Any] = Future()
        with self._ready:
            self._work.append((future, fn, args, kwargs))
            if self._idle:
                self._ready.notify()
            elif len(self._workers) < self._max_workers:
                worker = VirtualThread(
                    target=self._worker, name=f"{self._prefix}_{len(self._workers)}", daemon=True
                )
                self._workers.append(worker)
                worker.start()
        return future

    def _worker(self) -> None:
        while True:
            with self._ready:
                while not self._work and not self._shutdown:
                    self._idle += 1
                    self._ready.wait()
                    self._idle -= 1
                if not self._work:
                    return
                future, fn, args, kwargs = self._work.popleft()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = fn(*args, **kwargs)
            except BaseException as error:
                future.set_exception(error)
            else:
                future.set_result(result)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._ready:
            self._shutdown = True
            if cancel_futures:
                while self._work:
                    self._work.popleft()[0].cancel()
            self._ready.notify_all()
        if wait:
            for worker in self._workers:
                worker.join()

    def __enter__(self) -> VirtualThreadPoolExecutor:
        return self

    def __exit__(self, *args: Any) -> None:
        self.shutdown(wait=True)


# ---------------------------------------------------------------------- factories
# Drop-in names for modules whose threading should follow the scheduler: each gives
# the virtual primitive when a participant creates it, the real one otherwise.
def Event() -> Any:
    found = current()
    return VirtualEvent(found[0]) if found else threading.Event()


def Condition(lock: Any = None) -> Any:
    found = current()
    return VirtualCondition(found[0], lock) if found else threading.Condition(lock)


def Semaphore(value: int = 1) -> Any:
    found = current()
    return VirtualSemaphore(found[0], value) if found else threading.Semaphore(value)


def BoundedSemaphore(value: int = 1) -> Any:
    found = current()
    if found:
        return VirtualSemaphore(found[0], value, bound=value)
    return threading.BoundedSemaphore(value)


def ThreadPoolExecutor(
    max_workers: int | None = None, thread_name_prefix: str = "", **kwargs: Any
) -> Any:
    import concurrent.futures

    if current() is not None:
        return VirtualThreadPoolExecutor(max_workers, thread_name_prefix)
    return concurrent.futures.ThreadPoolExecutor(max_workers, thread_name_prefix, **kwargs)


def sleep(seconds: float) -> None:
    """``time.sleep`` that sleeps virtual time in a participant, real time elsewhere."""
    found = current()
    if found is not None:
        found[0].sleep(seconds)
    else:
        import time

        time.sleep(seconds)


class _ThreadingShim:
    """Stands in for the ``threading`` module inside patched modules."""

    Thread = VirtualThread
    Event = staticmethod(Event)
    Condition = staticmethod(Condition)
    Semaphore = staticmethod(Semaphore)
    BoundedSemaphore = staticmethod(BoundedSemaphore)

    def __getattr__(self, name: str) -> Any:
        return getattr(threading, name)


threading_shim = _ThreadingShim()
