"""A TCP proxy the fault tests steer, between the suite and RabbitMQ or PostgreSQL.

Modes (``proxy.mode = ...`` or ``with proxy.fault(mode, seconds)``):

- ``forward``: bytes pass both ways.
- ``refuse``: every open connection is reset and the port stops listening, so a connect
  is refused at once (the server is down).
- ``stall``: every open connection is reset; new connections are accepted but nothing
  passes (a server that hangs before its greeting).
- ``silent``: the connections open when it is set stay open, but nothing passes on them
  either way and nothing is closed (a half-open peer: a dead host, a dropped NAT entry);
  new connections pass. Leaving it resets the silenced ones (the peer, back, answers RST).
- ``reset()``: a one-off, not a mode: reset every open connection, keep forwarding.

Resets are real RSTs (``SO_LINGER`` 0), so each side sees ``ECONNRESET`` as after a crash.
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading
import time
from collections.abc import Iterator

MODES = ("forward", "refuse", "stall", "silent")
_CHUNK = 65536


def _reset(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


class _Pair:
    """One client connection and its upstream connection, pumped by one thread."""

    def __init__(self, proxy: TcpProxy, client: socket.socket) -> None:
        self.proxy = proxy
        self.client = client
        self.upstream: socket.socket | None = None
        self.closed = threading.Event()
        self.silent = False

    def run(self) -> None:
        try:
            self._wait_while_stalled()
            if self.closed.is_set():
                return
            self.upstream = socket.create_connection(self.proxy.target, timeout=5)
            self.upstream.settimeout(None)
            self._pump()
        except OSError:
            pass
        finally:
            self.close()
            self.proxy._forget(self)

    def _wait_while_stalled(self) -> None:
        while not self.closed.is_set() and self.proxy.mode in ("stall", "refuse"):
            time.sleep(0.05)

    def _pump(self) -> None:
        ends = {self.client: self.upstream, self.upstream: self.client}
        while not self.closed.is_set():
            if self.silent or self.proxy.mode == "stall":  # read nothing, send nothing
                time.sleep(0.05)
                continue
            ready, _, _ = select.select(list(ends), [], [], 0.1)
            for sock in ready:
                data = sock.recv(_CHUNK)
                if not data:
                    return
                ends[sock].sendall(data)
                self.proxy.bytes_forwarded += len(data)

    def close(self, reset: bool = False) -> None:
        self.closed.set()
        for sock in (self.client, self.upstream):
            if sock is None:
                continue
            if reset:
                _reset(sock)
            else:
                with contextlib.suppress(OSError):
                    sock.close()


class TcpProxy:
    """``with TcpProxy(("127.0.0.1", 5672)) as proxy:`` — listens on ``proxy.port``."""

    def __init__(self, target: tuple[str, int], port: int = 0, host: str = "127.0.0.1") -> None:
        self.target = target
        self.host = host
        self.port = port
        self._mode = "forward"
        self._pairs: set[_Pair] = set()
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self.connections = 0  # accepted so far
        self.bytes_forwarded = 0

    # --- life ---------------------------------------------------------------------------------

    def start(self) -> TcpProxy:
        self._listen()
        self._thread = threading.Thread(target=self._accept_loop, name="tcp-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self._close_listener()
        self.reset()
        if self._thread:
            self._thread.join(5)

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _listen(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen(128)
        listener.settimeout(0.1)
        self.port = listener.getsockname()[1]
        self._listener = listener

    def _close_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()

    def _accept_loop(self) -> None:
        while not self._stopped.is_set():
            listener = self._listener
            if listener is None:  # refusing
                time.sleep(0.05)
                continue
            try:
                client, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            client.settimeout(None)
            pair = _Pair(self, client)
            with self._lock:
                self._pairs.add(pair)
                self.connections += 1
            threading.Thread(target=pair.run, name="tcp-proxy-pair", daemon=True).start()

    def _forget(self, pair: _Pair) -> None:
        with self._lock:
            self._pairs.discard(pair)

    # --- steering -----------------------------------------------------------------------------

    @property
    def mode(self) -> str:
        return self._mode

    @mode.setter
    def mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown proxy mode {mode!r}; one of {MODES}")
        if mode in ("refuse", "stall") or self._mode == "silent":
            self.reset(only_silent=self._mode == "silent" and mode == "forward")
        if mode == "silent":
            with self._lock:
                for pair in self._pairs:
                    pair.silent = True
        if mode == "refuse":
            self._close_listener()
        elif self._listener is None and not self._stopped.is_set():
            self._listen()
        self._mode = mode

    def reset(self, only_silent: bool = False) -> int:
        """Reset every open connection (or the silenced ones), RST both ways; how many."""
        with self._lock:
            pairs = [p for p in self._pairs if p.silent or not only_silent]
            self._pairs.difference_update(pairs)
        for pair in pairs:
            pair.close(reset=True)
        return len(pairs)

    @property
    def open_connections(self) -> int:
        with self._lock:
            return len(self._pairs)

    @contextlib.contextmanager
    def fault(self, mode: str, seconds: float) -> Iterator[None]:
        """``mode`` for ``seconds`` (the body runs meanwhile), then forwarding again."""
        self.mode = mode
        started = time.monotonic()
        try:
            yield
            left = seconds - (time.monotonic() - started)
            if left > 0:
                time.sleep(left)
        finally:
            self.mode = "forward"
