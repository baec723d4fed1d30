"""A TCP proxy on loopback that a test controls: it forwards, or it goes silent (the peer
stops answering and nothing is closed, as when a path or a host dies without a RST).

``silence()`` stops every connection it carries and leaves each open; connections made
while silent are accepted and never answered. ``restore()`` forwards new connections again,
but the silenced ones stay silent for good: their peer is gone, as after a real outage, so
only a client that notices and reconnects gets through."""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
import time


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._lock = threading.Lock()
        self._silent = False
        self.accepted = 0  # connections taken, silent ones included
        self._live: list[_Pipe] = []
        self._held: list[socket.socket] = []
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="tcp proxy", daemon=True)

    def start(self) -> TcpProxy:
        self._thread.start()
        return self

    def silence(self) -> None:
        with self._lock:
            self._silent = True
            for pipe in self._live:
                pipe.silent = True

    def restore(self) -> None:
        with self._lock:
            self._silent = False

    @property
    def connections(self) -> int:
        """How many connections forward now."""
        with self._lock:
            return sum(1 for pipe in self._live if not pipe.silent and not pipe.ended)

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            with self._lock:
                self.accepted += 1
                if self._silent:
                    self._held.append(client)  # accepted, never answered
                    continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            pipe = _Pipe(client, upstream)
            with self._lock:
                self._live.append(pipe)
            threading.Thread(target=pipe.run, name="tcp proxy pipe", daemon=True).start()

    def close(self) -> None:
        self._closed.set()
        self._server.close()
        with self._lock:
            for pipe in self._live:
                pipe.close()
            for sock in self._held:
                sock.close()

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Pipe:
    """Copies bytes both ways until either side closes; while ``silent`` it reads nothing:
    bytes stay in the kernel's buffers, unanswered."""

    def __init__(self, client: socket.socket, upstream: socket.socket) -> None:
        self.client = client
        self.upstream = upstream
        self.silent = False
        self.ended = False

    def run(self) -> None:
        peers = {self.client: self.upstream, self.upstream: self.client}
        with selectors.DefaultSelector() as selector:
            for sock in peers:
                sock.setblocking(True)
                selector.register(sock, selectors.EVENT_READ)
            while not self.ended:
                if self.silent:
                    time.sleep(0.2)
                    continue
                for key, _ in selector.select(timeout=0.2):
                    try:
                        data = key.fileobj.recv(65536)
                        if not data:
                            raise OSError("closed")
                        peers[key.fileobj].sendall(data)
                    except OSError:
                        self.close()
                        return

    def close(self) -> None:
        self.ended = True
        for sock in (self.client, self.upstream):
            with contextlib.suppress(OSError):
                sock.close()
