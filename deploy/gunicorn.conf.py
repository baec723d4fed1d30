"""Gunicorn settings for one Evenemang web service (booking, calendar or notify).

The app is named on the command line, e.g.::

    gunicorn -c deploy/gunicorn.conf.py 'services.calendar:create_app()'

Every setting below can be changed with the environment variable next to it.
"""

import os
import re
import tempfile

from gunicorn.glogging import Logger

# Workers die with their master, a restarted master binds the port at once, and the app's
# code is imported once in the master (no app is built there: see preload_app below).
from evenemang.gunicorn_hooks import post_fork, reuse_port, when_ready  # noqa: F401


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))  # honours cpusets (containers, taskset)
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


# Listen on HOST:PORT; the container and compose use 0.0.0.0:8000.
bind = [f"{os.environ.get('HOST', '0.0.0.0')}:{_int('PORT', 8000)}"]

# Processes x threads. Scale out with more instances rather than huge workers: every
# worker process has its own database pool (at most `threads` connections in use).
workers = max(1, _int("WEB_CONCURRENCY", min(2 * _cpus() + 1, 8)))
worker_class = "gthread"
threads = max(1, _int("GUNICORN_THREADS", 4))

# No preloading: each worker imports the app and builds its own engine, pools and
# broker connections after the fork, so nothing socket-like is shared between processes.
preload_app = False

# Seconds. `timeout` is the worker heartbeat; `graceful_timeout` is how long in-flight
# requests get after SIGTERM (keep it below the container's stop grace period). With gthread
# workers the heartbeat comes from each process's main loop, so `timeout` restarts a process
# that is stuck as a whole (a call that never lets go of the interpreter), not one slow
# request: those are bounded by the app itself (a repeat rule's walk, for one) and by
# the database's EVENEMANG_DB_STATEMENT_TIMEOUT (30 s, the same as this timeout).
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 25)
# Longer than the proxy's upstream keepalive_timeout (nginx.conf: 30s), so the proxy,
# not gunicorn, closes idle connections and never reuses one gunicorn just dropped.
keepalive = _int("GUNICORN_KEEPALIVE", 65)

# Recycle workers now and then (0 turns it off).
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 200)

# Trust X-Forwarded-Proto (for wsgi.url_scheme) from these addresses only. The compose
# file sets "*" because only the proxy can reach the web containers there. Host, client
# address and prefix (X-Forwarded-Host/-For/-Prefix) need werkzeug's ProxyFix in the app.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Logs: access log to stdout, errors to stderr.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%({x-forwarded-for}i)s %(h)s "%(r)s" %(s)s %(B)s %(M)sms "%(f)s" "%(a)s"'

# Some addresses carry a secret: a private feed's token, a decision or password link,
# single sign-on's code and state. The access log shows them as *** (nginx.conf does the
# same): a log is read by more people, and kept longer, than the secret should be.
SECRET_IN_PATH = re.compile(
    r"(/feeds/private/|/feeds/assignments/|/feed-tokens/|/decide/|/password/reset/)[^/?#\s.\"]+"
)
SECRET_IN_QUERY = re.compile(r"([?&](?:code|state|token)=)[^&#\s\"]+")


def mask_secrets(text: str) -> str:
    return SECRET_IN_QUERY.sub(r"\1***", SECRET_IN_PATH.sub(r"\1***", text))


class MaskingLogger(Logger):
    """gunicorn's logger, with the secrets of addresses masked in the access log's request
    line, path, query and referrer."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "q", "f"):
            if isinstance(atoms.get(key), str):
                atoms[key] = mask_secrets(atoms[key])
        return atoms


logger_class = MaskingLogger

# Heartbeat files on tmpfs, so a slow disk cannot make workers look dead.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"

proc_name = "evenemang"

# /metrics adds up the counters of every worker process (shared/metrics.py) through files
# in this directory: one of this master's own unless PROMETHEUS_MULTIPROC_DIR names one
# (then keep it for this service's processes alone, and empty it before a start).
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="evenemang-metrics-")

# gunicorn >= 25.1 opens a control socket at one path per user ($HOME/.gunicorn/gunicorn.ctl),
# which several gunicorns on one host (Procfile, systemd) would fight over. Off unless a
# path is given. Older gunicorn ignores both names.
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
else:
    control_socket_disable = True
