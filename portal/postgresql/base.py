"""Django's PostgreSQL backend, minus the health check's round trip on a connection that just worked.

With ``CONN_HEALTH_CHECKS`` (on in production: a connection kept across requests may have been cut by a
database restart or a failover), Django sends ``SELECT 1`` before the first query of every request. On the
check API that round trip cost as much as the check's own query: under load, a fifth of a worker's time
(py-spy, ``make bench --only api``). HikariCP, the JVM's reference pool, skips its validation for a
connection used within the last 500 ms (``aliveBypassWindowMs``); so does this backend: the check is skipped
when the connection's previous request ran queries without any database error and ended less than
``BYPASS_SECONDS`` ago. A connection idle for longer, one whose request met an error, and a new request
with none proven within the window are checked as before. What is given up: a server restart within the last half second
can reach one request's query before the check would have caught it; that request fails (500, an
OperationalError), Django marks the connection (``errors_occurred``) and closes it at the request's end, as
it does for any connection that breaks mid-request.
"""

from __future__ import annotations

import time

from django.db.backends.postgresql import base

BYPASS_SECONDS = 0.5


class DatabaseWrapper(base.DatabaseWrapper):
    _queried = False  # a cursor was opened since the last request boundary
    _proven_at = float("-inf")  # when a request that queried ended without a database error

    def close_if_health_check_failed(self):
        self._queried = True
        return super().close_if_health_check_failed()

    def close_if_unusable_or_obsolete(self):
        """Django calls this when a request starts and when it ends."""
        now = time.monotonic()
        if self.connection is not None and self._queried and not self.errors_occurred:
            self._proven_at = now
        self._queried = False
        super().close_if_unusable_or_obsolete()
        if (
            self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and now - self._proven_at < BYPASS_SECONDS
        ):
            self.health_check_done = True

    def close(self):
        self._proven_at = float("-inf")
        super().close()
