"""Sending mail: ``EVENEMANG_SMTP_URL`` parsed once, an SMTP connection that says per
recipient what the server refused, and the local sink (``.eml`` files) used when no SMTP
server is configured.

``smtplib.SMTP.sendmail`` does not raise when only some recipients are refused: it returns
them. Callers get those refusals back here, each marked permanent (5xx) or not (4xx), and
connection-level trouble (refused connection, timeout, a dropped line, a failed STARTTLS or
login) as :class:`ConnectionTrouble`, which is always worth a retry. Every connection has a
timeout (``timeout=`` in the URL, 30 s by default)."""

from __future__ import annotations

import hashlib
import os
import smtplib
import ssl
import tempfile
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser, BytesParser
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from shared.config import ConfigError
from shared.files import private_dir

DEFAULT_TIMEOUT = 30.0
PORTS = {"smtp": 25, "smtps": 465}
TRUE = ("1", "true", "yes", "on")


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to reach the SMTP server."""

    host: str
    port: int
    implicit_tls: bool = False  # smtps://
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    cafile: str | None = None  # trust this CA (a private relay's self-signed certificate)

    def __repr__(self) -> str:  # never print the password
        scheme = "smtps" if self.implicit_tls else "smtp"
        user = f"{self.username}:***@" if self.username else ""
        return f"SmtpSettings({scheme}://{user}{self.host}:{self.port})"


def parse_smtp_url(url: str) -> SmtpSettings:
    """``smtp://user:pass@host:587?starttls=1``, ``smtps://user:pass@host:465``; query
    options ``starttls``, ``timeout`` (seconds) and ``cafile``. User and password are
    percent-decoded."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in PORTS or not parts.hostname:
        raise ConfigError(
            "EVENEMANG_SMTP_URL must look like smtp://user:pass@host:587?starttls=1 "
            "or smtps://user:pass@host:465"
        )
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    unknown = set(query) - {"starttls", "timeout", "cafile"}
    if unknown:
        raise ConfigError(
            f"EVENEMANG_SMTP_URL: unknown option {sorted(unknown)[0]!r} "
            "(known: starttls, timeout, cafile)"
        )
    try:
        port = parts.port or PORTS[scheme]
        timeout = float(query.get("timeout", DEFAULT_TIMEOUT))
    except ValueError as exc:
        raise ConfigError(f"EVENEMANG_SMTP_URL: {exc}") from exc
    if timeout <= 0:
        raise ConfigError("EVENEMANG_SMTP_URL: timeout must be a positive number of seconds")
    starttls = query.get("starttls", "0").lower() in TRUE
    if scheme == "smtps" and starttls:
        raise ConfigError("EVENEMANG_SMTP_URL: smtps:// is TLS already; drop starttls=1")
    return SmtpSettings(
        host=parts.hostname,
        port=port,
        implicit_tls=scheme == "smtps",
        starttls=starttls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        timeout=timeout,
        cafile=query.get("cafile") or None,
    )


@dataclass(frozen=True)
class Refusal:
    """The server's answer to one recipient or one message it did not accept."""

    code: int
    text: str

    @property
    def permanent(self) -> bool:
        return 500 <= self.code < 600

    def __str__(self) -> str:
        return f"{self.code} {self.text}".strip()


class ConnectionTrouble(Exception):
    """The connection failed or broke: nothing more can be sent on it; retry later."""


class MessageRefused(Exception):
    """The server refused the whole message (its sender or its data)."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(str(refusal))
        self.refusal = refusal


def _text(value: bytes | str) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return " ".join(text.split())[:500]


class SmtpConnection:
    """One SMTP session (``with`` opens and closes it) sending any number of messages."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpConnection:
        self.open()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.settings.cafile)

    def open(self) -> None:
        s = self.settings
        try:
            if s.implicit_tls:
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.host, s.port, timeout=s.timeout, context=self._tls_context()
                )
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            self._smtp = smtp
            smtp.ehlo()
            if s.starttls:
                smtp.starttls(context=self._tls_context())
                smtp.ehlo()
            if s.username:
                smtp.login(s.username, s.password or "")
        except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            self.close()
            raise ConnectionTrouble(f"{type(exc).__name__}: {_describe(exc)}") from exc

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()

    def alive(self) -> bool:
        """Whether the server still answers on this connection (``NOOP``); one that does
        not is closed."""
        if self._smtp is None:
            return False
        try:
            if self._smtp.noop()[0] == 250:
                return True
        except (smtplib.SMTPException, OSError):
            pass
        self.close()
        return False

    def send(self, sender: str, recipients: list[str], data: bytes) -> dict[str, Refusal]:
        """Send one message; the recipients the server refused (the rest have it).

        Raises :class:`MessageRefused` when the server refused the message as a whole and
        :class:`ConnectionTrouble` when the connection broke."""
        if self._smtp is None:
            raise ConnectionTrouble("not connected")
        try:
            refused = self._smtp.sendmail(sender, recipients, data)
        except smtplib.SMTPRecipientsRefused as exc:  # every recipient refused
            refused = exc.recipients
        except smtplib.SMTPServerDisconnected as exc:
            self._smtp = None
            raise ConnectionTrouble(f"disconnected: {_describe(exc)}") from exc
        except smtplib.SMTPResponseException as exc:  # sender or data refused
            if exc.smtp_code == 421:  # the server is closing the connection
                self.close()
                raise ConnectionTrouble(_describe(exc)) from exc
            raise MessageRefused(Refusal(exc.smtp_code, _text(exc.smtp_error))) from exc
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise ConnectionTrouble(f"{type(exc).__name__}: {_describe(exc)}") from exc
        return {rcpt: Refusal(code, _text(text)) for rcpt, (code, text) in refused.items()}


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        return str(Refusal(exc.smtp_code, _text(exc.smtp_error)))
    return _text(str(exc)) or type(exc).__name__


# --- the sink ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SinkEntry:
    name: str
    subject: str
    to: str
    date: str
    modified: float


class MailSink:
    """Mail kept as ``.eml`` files in a directory instead of being sent. A message's file
    name comes from its Message-ID, so writing the same message twice keeps one file."""

    NAME_LENGTH = 32

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    @classmethod
    def file_name(cls, message_id: str) -> str:
        digest = hashlib.sha256(message_id.strip().encode()).hexdigest()
        return digest[: cls.NAME_LENGTH] + ".eml"

    @classmethod
    def valid_name(cls, name: str) -> bool:
        stem, dot, ext = name.partition(".")
        return (
            ext == "eml"
            and dot == "."
            and len(stem) == cls.NAME_LENGTH
            and all(c in "0123456789abcdef" for c in stem)
        )

    def write(self, message_id: str, data: bytes) -> Path:
        """Store one message (atomically: a reader never sees half a file)."""
        private_dir(self.directory)
        target = self.directory / self.file_name(message_id)
        fd, temporary = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".eml")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return target

    def entries(self, limit: int = 500) -> list[SinkEntry]:
        """The newest ``limit`` messages, newest first, with their main headers."""
        if not self.directory.is_dir():
            return []
        files = [p for p in self.directory.iterdir() if self.valid_name(p.name)]
        files.sort(key=lambda p: (p.stat().st_mtime, p.name), reverse=True)
        parser = BytesHeaderParser(policy=policy.default)
        found = []
        for path in files[:limit]:
            with open(path, "rb") as handle:
                headers = parser.parse(handle)
            found.append(
                SinkEntry(
                    name=path.name,
                    subject=str(headers.get("Subject", "")),
                    to=str(headers.get("To", "")),
                    date=str(headers.get("Date", "")),
                    modified=path.stat().st_mtime,
                )
            )
        return found

    def read(self, name: str) -> EmailMessage | None:
        """One message parsed, or ``None`` for a name that is not one of the sink's files."""
        data = self.raw(name)
        if data is None:
            return None
        return BytesParser(policy=policy.default).parsebytes(data)  # type: ignore[return-value]

    def raw(self, name: str) -> bytes | None:
        if not self.valid_name(name):
            return None
        path = self.directory / name
        return path.read_bytes() if path.is_file() else None


class SinkConnection:
    """The sink behind the same interface as :class:`SmtpConnection`."""

    def __init__(self, sink: MailSink) -> None:
        self.sink = sink

    def __enter__(self) -> SinkConnection:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def send(self, sender: str, recipients: list[str], data: bytes) -> dict[str, Refusal]:
        headers = BytesHeaderParser(policy=policy.default).parsebytes(data)
        message_id = str(headers.get("Message-ID") or hashlib.sha256(data).hexdigest())
        self.sink.write(message_id, data)
        return {}


def connection_for(smtp_url: str, sink_directory: Path) -> SmtpConnection | SinkConnection:
    """An SMTP connection (not yet open) when a URL is configured, else the sink."""
    if smtp_url:
        return SmtpConnection(parse_smtp_url(smtp_url))
    return SinkConnection(MailSink(sink_directory))
