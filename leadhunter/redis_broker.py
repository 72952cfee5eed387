"""kombu's Redis transport, changed so that a worker rides out a Redis outage.

Registered for `redis://` and `rediss://` URLs in leadhunter/celery.py; nothing else uses it
directly. Two changes, both in how the worker's unacknowledged messages are handled (Redis keeps
each message a worker took in the `unacked` hash and its time in the `unacked_index` sorted
set until the worker acknowledges it):

1. A message that cannot be given back stays with Redis instead of killing the worker.
   When Redis drops while a worker holds messages, Celery 5.7 first collects the broken
   connection (which detaches the transport from it) and then closes it; closing the channel
   requeues the held messages through that detached transport, which raises
   AttributeError("'NoneType' object has no attribute 'hostname'"). Celery counts that as
   unrecoverable and the worker exits for good (the kombu #582 / #970 family; celery #10205 is
   the same outage seen from the consumer side; celery and kombu 5.7.0, the newest releases,
   both have it). Here a requeue that fails (for any reason: Redis down, transport detached)
   leaves the messages in Redis's unacked set, and this process remembers their tags; once it
   has reconnected, the next sweep puts them back on the queue. Celery then reconnects as it
   does for an idle worker.

2. Leases instead of a one-hour visibility timeout. Redis hands an unacknowledged message to
   another worker once its time in `unacked_index` is older than `visibility_timeout`. A
   thread renews that time for every message the worker holds, every `visibility_timeout / 6`
   seconds, so the timeout can be short (CELERY_VISIBILITY_TIMEOUT, two minutes by default):
   the messages of a worker that died (kill -9, OOM killer, power cut) go back on the queue
   about that long after its last renewal, and a task that runs longer than the timeout is
   still never handed out twice. It is a thread, not an event-loop timer, so a solo pool busy
   with a long task keeps renewing too.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from time import time

from kombu.transport import redis as kombu_redis

logger = logging.getLogger(__name__)

# Renewals per visibility timeout: a lease survives five missed renewals.
RENEWALS_PER_TIMEOUT = 6


class _Orphans:
    """Delivery tags whose channel died before it could give them back, for this process."""

    def __init__(self) -> None:
        self._tags: set[str] = set()
        self._lock = threading.Lock()

    def add(self, tags: Iterable[str]) -> None:
        with self._lock:
            self._tags.update(tags)

    def take(self) -> list[str]:
        with self._lock:
            tags, self._tags = list(self._tags), set()
        return tags

    def __len__(self) -> int:
        with self._lock:
            return len(self._tags)


orphans = _Orphans()


class LeasedQoS(kombu_redis.QoS):
    """Ack emulation with renewed leases and a requeue that never raises."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._lease_stop = threading.Event()
        self._lease_thread: threading.Thread | None = None

    # --- leases ------------------------------------------------------------------------------

    def append(self, message, delivery_tag) -> None:
        super().append(message, delivery_tag)
        if self._lease_thread is None and not self._lease_stop.is_set():
            self._lease_thread = threading.Thread(
                target=self._renew_until_closed, name="redis-unacked-leases", daemon=True
            )
            self._lease_thread.start()

    @property
    def lease_interval(self) -> float:
        return max(float(self.visibility_timeout) / RENEWALS_PER_TIMEOUT, 0.5)

    def _renew_until_closed(self) -> None:
        while not self._lease_stop.wait(self.lease_interval):
            try:
                self.renew_leases()
            except Exception as error:  # Redis away: the next renewal tries again
                logger.warning("Could not renew the leases of held messages: %r", error)

    def held_tags(self) -> list[str]:
        # The consumer thread adds and removes entries while this runs in the lease thread.
        for _ in range(10):
            try:
                return list(self._delivered)
            except RuntimeError:  # changed size during iteration
                continue
        return []

    def renew_leases(self) -> int:
        """Mark every message this channel holds as seen now; XX: never re-add an acked one."""
        tags = self.held_tags()
        if not tags:
            return 0
        now = time()
        with self.channel.conn_or_acquire() as client:
            return client.zadd(self.unacked_index_key, dict.fromkeys(tags, now), xx=True, ch=True)

    def stop_leases(self) -> None:
        self._lease_stop.set()

    # --- giving messages back ----------------------------------------------------------------

    def restore_unacked_once(self, stderr=None) -> None:
        # The channel is closing: its messages are given back now or become orphans; either
        # way this channel must stop renewing them, or Redis would never hand them out again.
        self.stop_leases()
        super().restore_unacked_once(stderr)

    def restore_unacked(self, client=None) -> None:
        try:
            super().restore_unacked(client)
        except Exception as error:
            tags = self.held_tags()
            self._delivered.clear()
            orphans.add(tags)
            logger.warning(
                "Could not give %d unacknowledged message(s) back to Redis (%r); they stay in "
                "its unacked set and go back on the queue once this worker has reconnected.",
                len(tags),
                error,
            )

    def restore_visible(self, *args: object, **kwargs: object) -> None:
        self.restore_orphans()
        super().restore_visible(*args, **kwargs)

    def restore_orphans(self) -> int:
        """Requeue what a dead channel of this process held (restore_by_tag is a no-op for a
        message that was acknowledged or already handed back meanwhile)."""
        tags = orphans.take()
        if not tags:
            return 0
        try:
            with self.channel.conn_or_acquire() as client:
                for tag in tags:
                    self.restore_by_tag(tag, client=client)
        except Exception as error:  # Redis away again: the next sweep tries again
            orphans.add(tags)
            logger.warning("Could not requeue %d message(s) yet: %r", len(tags), error)
            return 0
        logger.warning("Gave %d message(s) held before the broker outage back to Redis.", len(tags))
        return len(tags)


class LeasedChannel(kombu_redis.Channel):
    QoS = LeasedQoS

    def close(self) -> None:
        # Before kombu drops the channel's connection pools, which a renewal would recreate.
        if self._qos is not None:
            self._qos.stop_leases()
        super().close()


class LeasedTransport(kombu_redis.Transport):
    Channel = LeasedChannel
