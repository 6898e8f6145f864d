"""One job per student and notebook, run by Dask workers: each in a fresh sandboxed kernel."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from jaxcourse.grading import runner
from jaxcourse.grading.sandbox import Sandbox
from jaxcourse.grading.steps import Run


@dataclass
class Job:
    student: str
    notebook: str
    steps: list
    box: Sandbox


def _run_job_here(job: Job) -> dict:
    return runner.run_steps(job.steps, job.box).to_dict()


def run_job(job: Job) -> dict:
    """Runs on a Dask worker: the student's steps in a fresh sandboxed kernel."""
    # jupyter_client's blocking client refuses threads that run an event loop, as Dask's may.
    outcome: dict = {}

    def target():
        try:
            outcome["run"] = _run_job_here(job)
        except BaseException as err:
            outcome["error"] = err

    thread = threading.Thread(target=target, name=f"grade-{job.student}")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["run"]


def run_all(jobs: list[Job], workers: int, scheduler: str | None, progress: bool):
    """Yield (job, Run or exception) as workers finish them."""
    import logging

    from distributed import Client, LocalCluster, as_completed

    logging.getLogger("distributed").setLevel(logging.ERROR)
    if scheduler:
        client = Client(scheduler)
        cluster = None
    else:
        # Threads are enough: the work happens in the kernels they start.
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=False,
                               dashboard_address=None)
        client = Client(cluster)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(jobs), desc="grading", unit="notebook")
    try:
        futures = {client.submit(run_job, job, pure=False, key=f"grade-{job.student}-{job.notebook}-{i}"): job
                   for i, job in enumerate(jobs)}
        failed_once: dict[int, Exception] = {}
        running = as_completed(futures)
        for future in running:
            job = futures[future]
            try:
                run = Run.from_dict(future.result())
            except Exception as err:  # a worker lost, a bug: that student only, and only after a second try
                if id(job) not in failed_once:
                    failed_once[id(job)] = err
                    again = client.submit(run_job, job, pure=False, key=f"{future.key}-again")
                    futures[again] = job
                    running.add(again)
                    continue
                yield job, err
            else:
                if id(job) in failed_once:
                    run.notes.append(f"graded a second time: the grader failed the first time "
                                     f"({failed_once[id(job)]!r})")
                yield job, run
            if bar is not None:
                bar.set_postfix_str(job.student[:20])
                bar.update()
    finally:
        if bar is not None:
            bar.close()
        client.close()
        if cluster is not None:
            cluster.close()


