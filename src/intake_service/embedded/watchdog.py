"""Keeps the embedded PostgreSQL running under a serving process.

When its postmaster dies (killed, out of memory), every request would answer 503 until someone
restarted the whole service. The watchdog notices within a second and starts it again, a bounded
number of times with a growing pause; when that fails it gives up and says so, and /health/live
then fails so that an orchestrator restarts the process.
"""

import asyncio
import logging

import anyio

from intake_service.embedded.postgres import EmbeddedPostgres

logger = logging.getLogger(__name__)

CHECK_INTERVAL_SECONDS = 1.0
RESTART_ATTEMPTS = 5
FIRST_BACKOFF_SECONDS = 1.0  # doubled after each failed attempt: 1, 2, 4, 8 s between the five


class PostgresWatchdog:
    def __init__(self, server: EmbeddedPostgres) -> None:
        self.server = server
        self.failed = False

    async def run(self) -> None:
        while not self.failed:
            await asyncio.sleep(CHECK_INTERVAL_SECONDS)
            if not await anyio.to_thread.run_sync(self.server.alive):
                await self._restart()

    async def _restart(self) -> None:
        logger.warning("The embedded PostgreSQL is not running: restarting it.")
        for attempt in range(1, RESTART_ATTEMPTS + 1):
            try:
                await anyio.to_thread.run_sync(self.server.restart)
            except Exception as exc:  # noqa: BLE001 - whatever stops the start, the next attempt may not meet it
                logger.warning("Restarting the embedded PostgreSQL failed (attempt %d of %d): %s",
                               attempt, RESTART_ATTEMPTS, exc)  # fmt: skip
                if attempt < RESTART_ATTEMPTS:
                    await asyncio.sleep(FIRST_BACKOFF_SECONDS * 2 ** (attempt - 1))
            else:
                logger.warning("The embedded PostgreSQL is running again.")
                return
        # Said before /health/live starts failing, so whoever sees the failure can read why.
        logger.error("The embedded PostgreSQL could not be restarted: /health/live now fails.")
        self.failed = True
