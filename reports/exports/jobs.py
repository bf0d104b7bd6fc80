"""How exports reach a worker and how their files go: requests are rows drained by the
relay like the outbox (``export_source``), each written by one job on the work queue;
the relay's chore ``expiry_chore`` removes the files whose day is over."""

from __future__ import annotations

import functools

from hotline import leased
from hotline.jobs import run_job
from hotline.relay import Chore, Source
from hotline.settings import Settings
from reports.exports.service import FILE_TABLE, export_root, remove_expired, write_export

LEASE = leased.Lease(FILE_TABLE, claimed_state="enqueued")
# A million orders take about a minute (docs/reports.md); an hour leaves room for the
# largest lists a centre has without letting a stuck job hold a worker for ever.
TIMEOUT_SECONDS = 3600


def run_export_job(export_id: int) -> str:
    return run_job(lambda ctx, conn: write_export(conn, export_id, ctx))


export_source = Source("report_export", LEASE, run_export_job, timeout=TIMEOUT_SECONDS)


def expiry_chore(settings: Settings) -> Chore:
    """Removes the files of this deployment's exports after their day."""
    return Chore(
        "export_files", functools.partial(remove_expired, root=export_root(settings)), batch=100
    )
