"""Running a background loop as a process that stops cleanly on SIGTERM and SIGINT."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Sequence

from shared.logs import configure_logging


def run_until_signalled(
    loops: Sequence[Callable[[threading.Event], None]], *, log_format: str = "text"
) -> int:
    """Run each loop in its own thread; SIGTERM/SIGINT set the shared stop event, and the
    process exits once every loop has finished its current unit of work. Returns 1 when a
    loop died on its own (so a supervisor sees a failure and restarts), else 0."""
    configure_logging(log_format)
    stop = threading.Event()

    def _stop(signum, _frame) -> None:
        logging.getLogger(__name__).info("signal %s: stopping", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    threads = [threading.Thread(target=loop, args=(stop,), daemon=True) for loop in loops]
    for thread in threads:
        thread.start()
    failed = False
    while any(t.is_alive() for t in threads):
        for thread in threads:
            thread.join(timeout=0.5)
        if not stop.is_set() and not all(t.is_alive() for t in threads):
            failed = True
            stop.set()  # one loop died: stop the rest so the supervisor restarts us whole
    return 1 if failed else 0
