"""The job context as deployed: what ``hotline.context.JobContext`` is built from in a
process that runs jobs (the core cannot name the telephony providers)."""

from __future__ import annotations

from hotline import jobs
from hotline.context import Clock, JobContext, utcnow
from hotline.settings import Settings
from integrations.telephony.provider import make_provider


def job_context(settings: Settings, *, clock: Clock = utcnow) -> JobContext:
    return JobContext(settings, clock=clock, telephony=make_provider)


def install_job_context(settings: Settings) -> None:
    """This process's jobs run with a context of ``settings`` and the wall clock, built
    on the first job (and again in a forked child)."""
    jobs.install(lambda: job_context(settings))
