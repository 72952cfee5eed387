"""Rate limits for the public forms, counted in Django's cache (Redis, or the file cache of a
one-host install): no external service.

Fixed windows: the count of a key lives for one window. Redis counts atomically; the file
cache's increment is a read and a write, so a burst of parallel requests on a one-host install
may pass a few over the limit (never a flood: every request still adds one).
"""

from __future__ import annotations

import time

from django.core.cache import cache


def throttle_hit(key: str, *, limit: int, window_seconds: int) -> bool:
    """Count one request against `key`; True while the window's count is within `limit`."""
    window = int(time.time() // window_seconds)
    cache_key = f"handraise:throttle:{key}:{window}"
    cache.add(cache_key, 0, timeout=window_seconds + 5)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired or evicted between add and incr
        cache.set(cache_key, 1, timeout=window_seconds + 5)
        count = 1
    return count <= limit
