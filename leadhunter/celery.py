"""The Celery app: configured from Django settings (CELERY_*), tasks autodiscovered.

Every task is delivered at most MAX_DELIVERIES times per attempt. acks_late and
reject_on_worker_lost hand a task whose worker died back to the broker, which is what makes a
kill -9 or an OOM kill safe; but a task that itself kills its worker (a poison input) would then
come back and kill the next one, forever. Counting deliveries per task id and attempt (in the
cache, shared by all workers) stops that loop: the third loss of the same message drops it.
"""

from __future__ import annotations

import logging
import os
import uuid
from time import monotonic

from celery import Celery, Task
from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadhunter.settings")

logger = logging.getLogger(__name__)

MAX_DELIVERIES = 3
# Long enough for any redelivery (Redis hands back a lost task after its visibility timeout,
# minutes), short enough that the keys clean themselves up.
DELIVERY_COUNT_TTL = 6 * 3600


def delivery_key(task_id: str, retries: int) -> str:
    return f"celery:deliveries:{task_id}:{retries}"


class DeliveryLimitedTask(Task):
    """A task that refuses to start a message it has already started MAX_DELIVERIES times.

    A retry (self.retry, autoretry_for) is a new attempt with its own count; only deliveries of
    the same attempt, which happen when a worker is lost while running it, add up.
    """

    def __call__(self, *args: object, **kwargs: object) -> object:
        request = self.request
        if request.id and not request.called_directly and not request.is_eager:
            deliveries = _count_delivery(delivery_key(request.id, request.retries or 0))
            if deliveries > MAX_DELIVERIES:
                logger.error(
                    "Dropped task %s[%s]: its worker was lost on each of its last %d deliveries.",
                    self.name,
                    request.id,
                    MAX_DELIVERIES,
                )
                return None
        return super().__call__(*args, **kwargs)


def _count_delivery(key: str) -> int:
    from django.core.cache import cache  # imported late: Django is set up by then

    try:
        cache.add(key, 0, timeout=DELIVERY_COUNT_TTL)
        try:
            return cache.incr(key)
        except ValueError:  # evicted between add and incr
            cache.set(key, 1, timeout=DELIVERY_COUNT_TTL)
            return 1
    except Exception as error:
        # The cache is Redis too: a task that starts just as Redis goes away runs uncounted
        # rather than failing (a failed acks_late task is acknowledged, i.e. lost).
        logger.warning("Could not count the delivery %s: %r", key, error)
        return 1


class AtomicFilesystemChannel(filesystem.Channel):
    """kombu's filesystem channel, but a message file appears only once it is complete.

    kombu creates the `.msg` file and then writes it; a worker polling in between moves and
    reads an empty file, fails to decode it and the message is lost (seen in the tests: a
    worker thread polling while the test enqueued). Writing under another name and renaming,
    which is atomic within a folder, closes that window.
    """

    def _put(self, queue: str, payload: dict, **kwargs: object) -> None:
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = f"{final}.part"  # not "<queue>.msg": the consumer skips it
        with open(partial, "wb") as message:
            message.write(str_to_bytes(dumps(payload)))
        os.replace(partial, final)


class AtomicFilesystemTransport(filesystem.Transport):
    Channel = AtomicFilesystemChannel

    @property
    def default_connection_params(self) -> dict:
        # Folders on this host, no server: without a default hostname kombu has nothing to
        # warn "No hostname was supplied. Reverting to default 'localhost'" about.
        return {}


# The embedded broker (CELERY_BROKER_URL = "filesystem://") uses the channel above.
TRANSPORT_ALIASES["filesystem"] = f"{__name__}:AtomicFilesystemTransport"
# Redis: a worker that survives an outage, with leases on the messages it holds (see the module).
TRANSPORT_ALIASES["redis"] = TRANSPORT_ALIASES["rediss"] = "leadhunter.redis_broker:LeasedTransport"

app = Celery("leadhunter", task_cls=DeliveryLimitedTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Each worker writes a heartbeat row that /healthz reads (names, not classes: Django is not set
# up yet when this module is imported).
app.steps["worker"].add("ops.heartbeat:Heartbeat")
app.steps["consumer"].add("ops.heartbeat:Consuming")
