"""A worker that starts looks for batches left behind by one that died.

A worker killed with its whole process group (a lost machine, an OOM kill) leaves
its batch `processing` and its message unacknowledged until the broker's
visibility timeout (hours). The new worker's first task is the stalled-batch sweep,
so such a batch goes on within seconds of a worker being back, and beat runs the
same sweep every minute.
"""

from celery.signals import worker_ready


@worker_ready.connect
def _sweep_stalled_batches(**_kwargs) -> None:
    from bureau.records.tasks import maintenance_resume_stalled_batches

    maintenance_resume_stalled_batches.delay()
