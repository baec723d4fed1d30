"""Gunicorn settings every Evenemang web process shares (``evenemang up`` and ``serve``
load this module with ``-c python:evenemang.gunicorn_hooks``; deploy/gunicorn.conf.py
imports them): workers die with their master, and the port can be bound again at once."""

from __future__ import annotations

import os
import signal
from importlib import import_module

from evenemang.supervisor import die_with_parent

# A new master binds the port even while a dead master's workers still close theirs.
reuse_port = True


def when_ready(server) -> None:
    """Import the app's module in the master once the port is bound (a restarted web takes
    connections at once; they wait in the backlog): workers fork with the code loaded and
    only build the app (which opens nothing until used), so they answer sooner."""
    uri = getattr(server.app, "app_uri", None)
    if uri:
        import_module(uri.partition(":")[0])


def post_fork(server, worker) -> None:
    """A worker is killed as soon as its master dies (a SIGKILLed master cannot stop them),
    so no orphan keeps answering, or holding the port, beside the master started anew."""
    die_with_parent(signal.SIGKILL)
    if os.getppid() != worker.ppid:  # the master died before the line above
        os._exit(1)
