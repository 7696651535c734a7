"""populate(reserve_jobs=True) stopped by Ctrl-C or SIGTERM: the job under way is recorded as an error
naming the interruption, the make's rows are rolled back, and the exception reaches the caller."""

import os
import signal
import threading
import time

import pytest

import pipejoint as dj


def _tables(schema, make):
    @schema
    class Plate(dj.Manual):
        definition = """
        plate : int16
        """

    @schema
    class Count(dj.Computed):
        definition = """
        -> Plate
        ---
        colonies : int32
        """

    Count.make = make
    Plate.insert([(1,), (2,), (3,)])
    return Plate, Count


def test_ctrl_c_in_make_records_the_job_as_an_error(schema):
    def make(self, key):
        self.insert1(dict(key, colonies=10))
        if key["plate"] == 2:
            raise KeyboardInterrupt

    _, Count = _tables(schema, make)
    with pytest.raises(KeyboardInterrupt):
        Count.populate(reserve_jobs=True)
    status, message, stack = Count.jobs.errors.fetch1("status", "error_message", "error_stack")
    assert status == "error" and message == "KeyboardInterrupt" and "KeyboardInterrupt" in stack
    assert (Count.jobs.errors).fetch1("plate") == 2
    assert Count.fetch("plate").tolist() == [1]  # plate 2's row was rolled back; plate 3 was not started
    assert len(Count.jobs.reserved) == 0


def test_sigterm_during_make_records_the_job_and_restores_the_handler(schema):
    seen = []

    def make(self, key):
        seen.append(signal.getsignal(signal.SIGTERM))
        if key["plate"] == 2:
            os.kill(os.getpid(), signal.SIGTERM)  # as a cluster scheduler stopping the worker
            time.sleep(5)  # interrupted by the handler
        self.insert1(dict(key, colonies=10))

    _, Count = _tables(schema, make)

    def mine(signum, frame):
        raise AssertionError("populate's handler should be the one in force")

    previous = signal.signal(signal.SIGTERM, mine)
    try:
        with pytest.raises(SystemExit, match="SIGTERM received"):
            Count.populate(reserve_jobs=True)
        assert signal.getsignal(signal.SIGTERM) is mine  # restored
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert seen[0] is seen[1] and seen[0] is not mine  # installed once for the whole populate()
    assert Count.jobs.errors.fetch1("error_message") == "SystemExit: SIGTERM received"
    assert Count.fetch("plate").tolist() == [1]


def test_system_exit_in_make_is_recorded_with_its_message(schema):
    def make(self, key):
        raise SystemExit("stopped by the operator")

    _, Count = _tables(schema, make)
    with pytest.raises(SystemExit):
        Count.populate(reserve_jobs=True, suppress_errors=True)  # never suppressed
    assert Count.jobs.errors.fetch("error_message").tolist() == ["SystemExit: stopped by the operator"]
    assert len(Count) == 0


def test_without_jobs_or_outside_the_main_thread_the_handler_is_left_alone(schema):
    seen = []

    def make(self, key):
        seen.append(signal.getsignal(signal.SIGTERM))
        self.insert1(dict(key, colonies=10))

    Plate, Count = _tables(schema, make)
    before = signal.getsignal(signal.SIGTERM)
    Count.populate(Plate & "plate = 1")  # no jobs held: DataJoint's direct mode has no handler
    outcome = []
    thread = threading.Thread(target=lambda: outcome.append(Count.populate(reserve_jobs=True)))
    thread.start()
    thread.join()
    assert outcome[0] == {"success_count": 2, "error_list": []}  # signal.signal would refuse this thread
    assert seen == [before] * 3 and signal.getsignal(signal.SIGTERM) is before
