"""One job per student and notebook, run by Dask workers: each in a fresh sandboxed kernel.

Nothing in the grading process samples thread frames: Dask's worker profiler calls
`sys._current_frames()` every 10 ms, which on CPython 3.11 before 3.11.9 can deadlock with a
thread being started (python/cpython#106883, dask/distributed#8616), and the grader starts threads
all the time. It is off for the cluster the grader starts; a `--scheduler` cluster's workers
should set `DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False` (README). Whatever else hangs, the
watchdog (`watchdog`) notices, writes the stacks to the run's log and has the stuck notebooks
graded again.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

from jaxcourse.grading.intake.steps import Run
from jaxcourse.grading.sandbox import watchdog
from jaxcourse.grading.sandbox.settings import Sandbox
from jaxcourse.grading.verdicts import runner

NO_PROFILER = {"distributed.worker.profile.enabled": False}
# For tests only, and only from the grader's own process: called with the job before it runs.
before_job_for_tests = None


@dataclass
class Job:
    student: str
    notebook: str
    steps: list
    box: Sandbox


class GraderStalled(RuntimeError):
    """A notebook's grading made no progress twice: it is not graded in this run."""


def _run_job_here(job: Job) -> dict:
    return runner.run_steps(job.steps, job.box).to_dict()


def run_job(job: Job, key: str = "") -> dict:
    """Runs on a Dask worker: the student's steps in a fresh sandboxed kernel."""
    # jupyter_client's blocking client refuses threads that run an event loop, as Dask's may.
    outcome: dict = {}

    def target():
        try:
            with watchdog.working_on(key):
                if before_job_for_tests is not None:
                    before_job_for_tests(job)
                watchdog.check_abandoned()
                outcome["run"] = _run_job_here(job)
        except BaseException as err:
            outcome["error"] = err

    # A daemon: a thread the watchdog gave up on must not keep the grader from exiting.
    thread = threading.Thread(target=target, name=f"grade-{job.student}", daemon=True)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["run"]


def stall_seconds(box: Sandbox) -> float:
    """Longer than anything may take without a cell returning: a cell, its interrupt, a start."""
    limits = box.limits
    return max(limits.cell_seconds, limits.start_seconds) + limits.interrupt_grace + 30.0


def run_all(jobs: list[Job], workers: int, scheduler: str | None, progress: bool, log: Path | None = None,
            stalls: list[str] | None = None):
    """Yield (job, Run or exception) as workers finish them. `log`: where the watchdog writes the
    stacks when nothing moves; `stalls` gets one line each time it did."""
    import logging

    import dask
    from distributed import Client, LocalCluster

    logging.getLogger("distributed").setLevel(logging.ERROR)
    stalls = stalls if stalls is not None else []
    with dask.config.set(NO_PROFILER):
        if scheduler:
            client = Client(scheduler)
            cluster = None
        else:
            # Threads are enough: the work happens in the kernels they start.
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=False,
                                   dashboard_address=":0")  # any free port: never "8787 in use"
            client = Client(cluster)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(jobs), desc="grading", unit="notebook")
    run_id = uuid.uuid4().hex[:8]  # a job given up on in an earlier run is never this run's
    keys = [f"grade-{job.student}-{job.notebook}-{i}-{run_id}" for i, job in enumerate(jobs)]
    futures: dict = {}  # every attempt: (job index, why it was sent)
    attempts = {i: 0 for i in range(len(jobs))}
    finished: set[int] = set()
    done: queue.Queue = queue.Queue()  # attempts that ended, and jobs given up
    lock = threading.Lock()

    def submit(index: int, why: str = "") -> None:
        attempts[index] += 1
        key = f"{keys[index]}-{attempts[index]}" if attempts[index] > 1 else keys[index]
        future = client.submit(run_job, jobs[index], key, pure=False, key=key)
        futures[future] = (index, why)
        future.add_done_callback(done.put)

    def on_stall() -> None:
        """Stop what the stuck notebooks hold and grade them again, on a worker added for each."""
        here = watchdog.running()
        busy = here if cluster is not None else {k for ks in client.processing().values() for k in ks}
        with lock:
            stuck = [(f, i) for f, (i, why) in futures.items()
                     if f.key in busy and i not in finished and why != "stuck" and not f.done()]
            for future, index in stuck:
                watchdog.stop_kernels_of(future.key)
                futures[future] = (index, "stuck")
                if attempts[index] >= 2:
                    finished.add(index)
                    done.put(index)
                else:
                    submit(index, "stalled")
            if cluster is not None and stuck:
                cluster.scale(len(cluster.workers) + len(stuck))
        line = (f"the grader stalled: nothing moved for {stall_seconds(jobs[0].box):.0f} s; "
                f"{len(stuck)} notebook(s) sent to be graded again "
                f"({', '.join(jobs[i].student for _, i in stuck) or 'none'})")
        stalls.append(line)
        if log is not None:
            with open(log, "a") as out:
                out.write(line + "\n")

    guard = (watchdog.Watchdog(stall_seconds(jobs[0].box), log, on_stall) if log is not None and jobs
             else contextlib.nullcontext())
    try:
        with guard:
            with lock:
                for index in range(len(jobs)):
                    submit(index)
            yielded = 0
            while yielded < len(jobs):
                item = done.get()
                if isinstance(item, int):  # stalled twice: not graded
                    yielded += 1
                    yield jobs[item], GraderStalled(
                        "the grader made no progress on this notebook twice (a stall of the grader, not of "
                        "your code): not graded in this run")
                    _tick(bar, jobs[item])
                    continue
                with lock:
                    index, why = futures.pop(item)
                    if index in finished or why == "stuck":
                        continue  # a stuck attempt that ended after all: its notebook was sent again
                job = jobs[index]
                try:
                    run = Run.from_dict(item.result())
                except Exception as err:  # a worker lost, a bug: that student only, and only after a second try
                    with lock:
                        if attempts[index] < 2:
                            submit(index, repr(err))
                            continue
                        finished.add(index)
                    yielded += 1
                    yield job, err
                else:
                    with lock:
                        finished.add(index)
                    if why == "stalled":
                        run.notes.append("graded a second time: the grader stalled the first time (not your "
                                         "code; the grader's log has the details)")
                    elif why:
                        run.notes.append(f"graded a second time: the grader failed the first time ({why})")
                    yielded += 1
                    yield job, run
                watchdog.beat()
                _tick(bar, job)
    finally:
        for key in watchdog.running():  # a run stopped or failed: its notebooks' kernels end now
            watchdog.stop_kernels_of(key)
        if bar is not None:
            bar.close()
        client.close()
        if cluster is not None:
            if stalls:  # a stuck thread may never come back: the workers stop without waiting for it
                for worker in list(cluster.workers.values()):
                    cluster.sync(worker.close, executor_wait=False, reason="the grader stalled")
            cluster.close()


def _tick(bar, job: Job) -> None:
    if bar is not None:
        bar.set_postfix_str(job.student[:20])
        bar.update()
