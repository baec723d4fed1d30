"""The ``evenemang`` command line (see CONTRACT.md for the public commands)."""

from __future__ import annotations

import functools
import json
import os
import socket
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from shared.config import SERVICES, Config, ConfigError
from shared.files import keep_private

CONSUMERS = ("calendar", "notify")


def _config(data_dir: str | None) -> Config:
    if data_dir:
        os.environ["EVENEMANG_DATA_DIR"] = str(data_dir)
    try:
        return Config.from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def with_config(func: Callable[..., Any]) -> Callable[..., Any]:
    """Give a command ``--data-dir`` and pass it the resulting :class:`Config`."""

    @click.option(
        "--data-dir",
        type=click.Path(file_okay=False),
        default=None,
        help="Where embedded databases, the bus, the secret key and mail live "
        "(overrides EVENEMANG_DATA_DIR; default ./var).",
    )
    @functools.wraps(func)
    def wrapper(*args: Any, data_dir: str | None, **kwargs: Any) -> Any:
        return func(*args, config=_config(data_dir), **kwargs)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Evenemang: book venues and studio services, publish calendars, send the mail."""


def migrate_all(config: Config, services: tuple[str, ...] = SERVICES) -> None:
    from shared.migrations import upgrade

    for service in services:
        try:
            upgrade(service, config.database_url(service))
        except Exception as exc:
            raise click.ClickException(
                f"migrating {service} failed: {exc}. Check EVENEMANG_{service.upper()}"
                "_DATABASE_URL and that the database server is running."
            ) from exc


@cli.command()
@click.argument("service", required=False, type=click.Choice(SERVICES))
@with_config
def migrate(service: str | None, config: Config) -> None:
    """Apply the database migrations (of one service, or all)."""
    migrate_all(config, (service,) if service else SERVICES)
    click.echo(f"migrated: {service or ', '.join(SERVICES)}")


def _check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise click.ClickException(
                f"cannot listen on {host}:{port} ({exc.strerror}); "
                "stop what uses it or choose another with --port"
            ) from exc


def _gunicorn_argv(app: str, host: str, port: int, workers: int = 2) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "gthread",
        "--threads",
        "4",
        "--graceful-timeout",
        "5",
        "--timeout",
        "60",
        "--log-level",
        "warning",
        "--config",
        "python:evenemang.gunicorn_hooks",
        app,
    ]


def _wait_healthy(url: str, timeout: float, stop) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not stop.is_set():
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--demo",
    is_flag=True,
    help="Load demo venues, studios, services, teams and users first "
    "(and send unclaimed alerts to a demo address unless EVENEMANG_INFRA_TEAM_EMAIL is set).",
)
@with_config
def up(host: str, port: int, demo: bool, config: Config) -> None:
    """Run the whole suite on one port, with every worker, until Ctrl-C."""
    from evenemang.supervisor import Child, Supervisor, child_argv, install_stop_signals
    from shared.logs import configure_logging

    _check_port_free(host, port)
    config = config.ensure_secret_key()
    migrate_all(config)
    if demo:
        _load_demo(config)
    elif not users_exist(config):
        click.echo(FIRST_ADMIN_HINT)
    env = suite_env(config, host, port, demo=demo)
    env.setdefault(METRICS_DIR_VARIABLE, str(fresh_metrics_dir(config)))
    if demo and not config.infra_team_email:
        click.echo(
            f"demo: alerts no team or manager takes go to {env['EVENEMANG_INFRA_TEAM_EMAIL']} "
            "(EVENEMANG_INFRA_TEAM_EMAIL)"
        )
    children = [Child("web", _gunicorn_argv("evenemang.suite:create_suite()", host, port))]
    children += [Child(f"worker {s}", child_argv("worker", s)) for s in SERVICES]
    configure_logging(config.log_format)  # after migrating: its chatter is not the suite's
    supervisor = Supervisor(children, env)
    install_stop_signals(supervisor.stop)
    supervisor.start()
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    url = f"http://{shown}:{port}"
    try:
        if _wait_healthy(f"{url}/healthz", 30, supervisor.stop):
            click.echo(
                f"Evenemang is running at {url}/ "
                f"(calendar {url}/calendar/, notify {url}/notify/). Ctrl-C stops it."
            )
        supervisor.watch()
    finally:
        supervisor.shutdown()


def suite_env(config: Config, host: str, port: int, *, demo: bool = False) -> dict[str, str]:
    """The environment ``up`` gives every child: links in mail and feeds point at where
    this suite runs, unless configured otherwise; with ``--demo`` the infrastructure
    team's fallback address is a demo one when none is set, so its alerts are visible."""
    from evenemang.supervisor import child_env

    env = child_env(str(config.data_dir))
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    env.setdefault("EVENEMANG_BASE_URL", f"http://{shown_host}:{port}")
    if demo and not config.infra_team_email:
        from services.booking.demo import INFRA_TEAM_EMAIL

        env["EVENEMANG_INFRA_TEAM_EMAIL"] = INFRA_TEAM_EMAIL
    return env


METRICS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def fresh_metrics_dir(config: Config) -> Path:
    """``<data dir>/metrics``, emptied: where every process of the suite writes its counters
    for the web's ``/metrics`` to add up (a new run counts from zero)."""
    directory = config.data_dir / "metrics"
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    for old in directory.glob("*.db"):
        old.unlink(missing_ok=True)
    return directory


FIRST_ADMIN_HINT = (
    "No one can log in yet. Add the first admin with\n"
    "  evenemang users add EMAIL --name NAME --role admin --password-stdin\n"
    "(then type the password), or start with demo users, venues and services:\n"
    "  evenemang up --demo   (make up ARGS=--demo)"
)


def users_exist(config: Config) -> bool:
    """Whether booking's database (migrated) has anyone who could log in."""
    from services.booking.usecases.users import has_users
    from shared.db import service_database

    db = service_database(config, "booking")
    try:
        return has_users(db)
    finally:
        db.dispose()


def _load_demo(config: Config) -> None:
    from services.booking.demo import load_demo

    for line in load_demo(config.ensure_secret_key()):
        click.echo(line)


@cli.command()
@with_config
def demo(config: Config) -> None:
    """Load demo venues, studios, services, teams and users (running it twice changes nothing)."""
    migrate_all(config, ("booking",))
    _load_demo(config)


@cli.group()
def users() -> None:
    """Booking's users."""


@users.command("add")
@click.argument("email")
@click.option("--name", required=True, help="The person's name as others see it.")
@click.option("--role", required=True, type=click.Choice(("organiser", "infra", "admin")))
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_config
def users_add(email: str, name: str, role: str, password_stdin: bool, config: Config) -> None:
    """Add a user who can log in (with --password-stdin) or use API tokens."""
    from services.booking.usecases.users import add_user

    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    if password_stdin and len(password or "") < 8:
        raise click.ClickException("the password needs at least 8 characters")
    user = _booking_call(config, lambda db: add_user(db, email, name, role, password))
    click.echo(f"added {user.email} ({user.role})")


@users.command("list")
@click.option("--search", "-q", default="", help="Part of a name or an address.")
@click.option("--role", type=click.Choice(("organiser", "infra", "admin")), default=None)
@click.option(
    "--active/--deactivated", "active", default=None, help="Only active or only deactivated."
)
@with_config
def users_list(search: str, role: str | None, active: bool | None, config: Config) -> None:
    """List users: address, name, role, active or deactivated, teams, last login."""
    from services.booking.commands import PeopleQuery
    from services.booking.usecases.people import OPERATOR, list_people
    from shared.events import Role

    query = PeopleQuery(search.strip(), Role(role) if role else None, active, limit=100_000)
    found = _people_call(config, lambda ctx: list_people(ctx, OPERATOR, query))
    for person in found:
        state = "active" if person.active else "deactivated"
        teams = ",".join(person.team_slugs) or "-"
        last = person.last_login_at.isoformat() if person.last_login_at else "never"
        click.echo(f"{person.email}\t{person.name}\t{person.role}\t{state}\t{teams}\t{last}")
    click.echo(f"{len(found)} user(s)", err=True)


@users.command("set-role")
@click.argument("email")
@click.argument("role", type=click.Choice(("organiser", "infra", "admin")))
@with_config
def users_set_role(email: str, role: str, config: Config) -> None:
    """Give a user another role (the other services learn of it on the bus)."""
    from services.booking.commands import ChangePerson
    from shared.events import Role

    person = _change_person(config, email, ChangePerson.of(role=Role(role)))
    click.echo(f"{person.email} is now {person.role}")


def _activity_command(name: str, active: bool, summary: str) -> None:
    """``users deactivate`` and ``users reactivate``: one user's activity set."""

    @users.command(name, help=summary)
    @click.argument("email")
    @with_config
    def command(email: str, config: Config) -> None:
        from services.booking.commands import ChangePerson

        person = _change_person(config, email, ChangePerson.of(active=active))
        click.echo(f"{name}d {person.email}")


_activity_command(
    "deactivate", False, "Stop a user logging in; their sessions and API tokens stop everywhere."
)
_activity_command("reactivate", True, "Let a deactivated user log in again.")


def _change_person(config: Config, email: str, change: Any) -> Any:
    from services.booking.usecases.people import OPERATOR, change_person, find_person

    def change_it(ctx: Any) -> Any:
        return change_person(ctx, OPERATOR, find_person(ctx, email).id, change)

    return _people_call(config, change_it)


def _people_call(config: Config, func: Callable[[Any], Any]) -> Any:
    """A use case on booking's context (the database and the configuration)."""
    from services.booking.persistence.unit_of_work import Context

    return _booking_call(
        config,
        lambda db: func(Context(db=db, config=config)),
        not_found="see `evenemang users list`",
    )


@cli.group()
def tokens() -> None:
    """API tokens for scripts."""


@tokens.command("create")
@click.argument("email")
@click.option("--label", default="", help="What the token is for.")
@with_config
def tokens_create(email: str, label: str, config: Config) -> None:
    """Print a new API token for that user (on the last line of stdout)."""
    from services.booking.usecases.users import create_token

    config = config.ensure_secret_key()
    token = _booking_call(
        config,
        lambda db: create_token(db, config.secret_key, email, label),
        not_found="add it with `evenemang users add`",
    )
    click.echo(
        f"token for {email.lower()} (shown once; send it as Authorization: Bearer):", err=True
    )
    click.echo(token)


@cli.command()
@click.argument("service", type=click.Choice(SERVICES))
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@with_config
def serve(service: str, host: str, port: int, config: Config) -> None:
    """Serve one service's web app alone, at paths without a prefix."""
    _check_port_free(host, port)
    config.ensure_secret_key()
    os.execv(sys.executable, _gunicorn_argv(f"services.{service}:create_app()", host, port))


@cli.command()
@click.argument("service", type=click.Choice(SERVICES))
@with_config
def worker(service: str, config: Config) -> None:
    """Run a service's background work (relay, consumer, scheduler) until SIGTERM."""
    from importlib import import_module

    from shared.metrics import serve_worker_metrics
    from shared.worker import run_until_signalled

    config = config.ensure_secret_key()
    loops = import_module(f"services.{service}.entrypoints.worker").loops(config)
    serve_worker_metrics(config.metrics_port, service)
    if run_until_signalled(loops, log_format=config.log_format):
        raise click.ClickException(f"a {service} worker loop stopped unexpectedly; see the log")


@cli.group()
def dlq() -> None:
    """Dead-lettered messages of a consuming service."""


@dlq.command("list")
@click.argument("service", type=click.Choice(CONSUMERS))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@with_config
def dlq_list(service: str, as_json: bool, config: Config) -> None:
    """List dead letters (nothing is removed)."""
    from shared.bus.deadletter import list_dead_letters
    from shared.bus.topology import build_topology

    letters = _broker_call(
        lambda: list_dead_letters(config.broker_url, build_topology(config.queue_type), service)
    )
    for letter in letters:
        if as_json:
            click.echo(json.dumps(letter.as_dict()))
        else:
            click.echo(
                f"{letter.message_id}\t{letter.event_type or '-'}\t"
                f"{letter.dead_lettered_at}\t{letter.reason}"
            )
    click.echo(f"{len(letters)} dead-lettered message(s) in {service}.events.dlq", err=True)


@dlq.command("replay")
@click.argument("service", type=click.Choice(CONSUMERS))
@with_config
def dlq_replay(service: str, config: Config) -> None:
    """Put every dead letter back on the service's queue."""
    from shared.bus.deadletter import replay_dead_letters
    from shared.bus.topology import build_topology

    moved = _broker_call(
        lambda: replay_dead_letters(config.broker_url, build_topology(config.queue_type), service)
    )
    click.echo(f"replayed {moved} message(s) to {service}.events")


@tokens.command("list")
@click.argument("email")
@with_config
def tokens_list(email: str, config: Config) -> None:
    """List a user's tokens (id, label, created, revoked)."""
    from services.booking.usecases.users import list_tokens

    for token in _booking_call(config, lambda db: list_tokens(db, email)):
        revoked = token.revoked_at.isoformat() if token.revoked_at else "active"
        click.echo(f"{token.id}\t{token.label or '-'}\t{token.created_at.isoformat()}\t{revoked}")


@tokens.command("revoke")
@click.argument("token_id")
@with_config
def tokens_revoke(token_id: str, config: Config) -> None:
    """Revoke a token by its id (see `tokens list`); calendar and notify learn of it on the bus."""
    from services.booking.usecases.users import revoke_token

    _booking_call(config, lambda db: revoke_token(db, token_id))
    click.echo(f"revoked {token_id}")


def _booking_call(config: Config, func: Callable[[Any], Any], *, not_found: str = "") -> Any:
    """Run a booking use case on a migrated database; its refusals become one-line errors."""
    from services.booking.domain import DomainError, NotFound, RuleViolation
    from shared.db import service_database
    from shared.messages import text

    migrate_all(config, ("booking",))
    db = service_database(config, "booking")
    try:
        return func(db)
    except RuleViolation as exc:
        words = [text(m, "en") for ms in exc.errors.values() for m in ms]
        raise click.ClickException(" ".join(words)) from exc
    except NotFound as exc:
        said = text(exc.message, "en")
        raise click.ClickException(f"{said}; {not_found}" if not_found else said) from exc
    except DomainError as exc:
        raise click.ClickException(text(exc.message, "en")) from exc
    finally:
        db.dispose()


def _broker_call(func: Callable[[], Any]) -> Any:
    try:
        return func()
    except Exception as exc:
        raise click.ClickException(
            f"the message broker is unreachable ({exc}); check EVENEMANG_BROKER_URL"
        ) from exc


def main() -> None:
    keep_private()
    cli(prog_name="evenemang")
