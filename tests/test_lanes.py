"""The background lane (tools/lanes.py): heavy work on one thread of lower priority, results and errors back to the caller."""

import os
import threading

import pytest

from chatface.tools.lanes import BackgroundLane


def test_the_lane_runs_jobs_in_order_on_one_lower_priority_thread():
    lane = BackgroundLane(nice=5)
    seen = []

    def job(i):
        seen.append((i, threading.get_ident()))
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    own = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    callers = [threading.Thread(target=lambda i=i: lane.run(job, i)) for i in range(4)]
    for t in callers:
        t.start()
    for t in callers:
        t.join()
    assert lane.run(job, 9) == min(19, own + 5)  # the lane's thread, not the caller's, is lowered
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == own
    assert len({tid for _, tid in seen}) == 1 and threading.get_ident() not in {tid for _, tid in seen}
    lane.shutdown()


def test_an_error_comes_back_to_the_caller_and_a_job_may_use_the_lane_itself():
    lane = BackgroundLane()

    def fails():
        raise ValueError("not an image")

    with pytest.raises(ValueError, match="not an image"):
        lane.run(fails)
    assert lane.run(lambda: lane.run(lambda: 41) + 1) == 42  # a job that opens and then edits: no deadlock
    lane.shutdown()


def test_a_job_sees_the_callers_context_variables():
    import contextvars

    request = contextvars.ContextVar("request", default=None)
    lane = BackgroundLane()
    request.set("the web request's progress bar")
    assert lane.run(request.get) == "the web request's progress bar"
    lane.shutdown()
