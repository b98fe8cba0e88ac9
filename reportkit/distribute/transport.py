"""Handing a finished message to the mail system: the Outbox (one .eml file per message)
or an SMTP server (STARTTLS, login), with failures sorted into temporary (worth another
try) and permanent, and international addresses sent with SMTPUTF8 or refused.
"""

from __future__ import annotations

import os
import re
import smtplib
import socket
from email.message import EmailMessage
from pathlib import Path

from reportkit.errors import ReportError
from reportkit.files import write_atomically


class TemporaryFailure(Exception):
    """Worth trying again later (4xx, connection dropped, timeout)."""


class PermanentFailure(Exception):
    """The server refused this message for good (5xx)."""


class NotSupported(PermanentFailure):
    """The server cannot take this message as it is (an international address without
    SMTPUTF8): not sent, and trying again will not help."""


def international(recipient: str, sender: str) -> str | None:
    """The address of a delivery that needs SMTPUTF8, or None."""
    return next((a for a in (recipient, sender) if not a.isascii()), None)


def as_sent(message: EmailMessage, recipient: str, sender: str) -> bytes:
    """The message as the server receives it: in UTF-8 (RFC 6532) when the delivery
    needs SMTPUTF8."""
    policy = message.policy
    if international(recipient, sender):
        policy = policy.clone(utf8=True)
    return message.as_bytes(policy=policy)


class Outbox:
    """Writes each message as an .eml file (what an SMTP server would have received)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.label = f'outbox:{folder}'

    def send(self, message: EmailMessage, recipient: str, sender: str) -> None:
        name = re.sub(r'[^A-Za-z0-9._-]', '_', message['Message-ID'].strip('<>')) + '.eml'
        write_atomically(self.folder / name, as_sent(message, recipient, sender),
                         durable=True)

    def close(self) -> None:
        pass


class Smtp:
    """Sends through an SMTP server; STARTTLS and login when configured."""

    def __init__(self, host: str, port: int, *, starttls: bool = False,
                 username: str | None = None, password: str | None = None,
                 timeout: float = 30) -> None:
        self.host, self.port, self.starttls = host, port, starttls
        self.username, self.password, self.timeout = username, password, timeout
        self.label = f'smtp://{host}:{port}'
        self.connection: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        if self.connection is None:
            try:
                connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
                connection.ehlo()
                if self.starttls:
                    connection.starttls()
                    connection.ehlo()
                if self.username:
                    connection.login(self.username, self.password or '')
            except smtplib.SMTPAuthenticationError as error:
                raise ReportError(f'the SMTP server {self.host}:{self.port} refused the '
                                  f'login: {error.smtp_code} {_text(error.smtp_error)}') from None
            except (OSError, smtplib.SMTPException) as error:
                raise TemporaryFailure(f'cannot connect to {self.host}:{self.port}: '
                                       f'{error}') from None
            self.connection = connection
        return self.connection

    def send(self, message: EmailMessage, recipient: str, sender: str) -> None:
        connection = self._connect()
        needs = international(recipient, sender)
        if needs and not connection.has_extn('smtputf8'):
            raise _not_supported(needs)
        try:
            # With an international address, smtplib sends MAIL FROM with SMTPUTF8 and
            # BODY=8BITMIME, and the message in UTF-8 (RFC 6531, 6532).
            connection.send_message(message, from_addr=sender, to_addrs=[recipient])
        except smtplib.SMTPNotSupportedError:
            self._reset()
            raise _not_supported(needs or recipient) from None
        except smtplib.SMTPRecipientsRefused as error:
            code, text = error.recipients[recipient]
            self._classify(code, text)
        except smtplib.SMTPResponseException as error:
            if error.smtp_code >= 500 or error.smtp_code < 400:
                self._reset()
            else:
                self._drop()
            self._classify(error.smtp_code, error.smtp_error)
        except (smtplib.SMTPServerDisconnected, OSError, socket.timeout) as error:
            self._drop()
            raise TemporaryFailure(f'connection lost: {error or type(error).__name__}') from None
        except smtplib.SMTPException as error:
            self._drop()
            raise TemporaryFailure(f'{type(error).__name__}: {error}') from None

    def _classify(self, code: int, text) -> None:
        detail = f'{code} {_text(text)}'
        if 400 <= code < 500:
            raise TemporaryFailure(detail)
        raise PermanentFailure(detail)

    def _reset(self) -> None:
        try:
            if self.connection is not None:
                self.connection.rset()
        except (OSError, smtplib.SMTPException):
            self._drop()

    def _drop(self) -> None:
        if self.connection is not None:
            try:
                self.connection.close()
            except OSError:
                pass
        self.connection = None

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.quit()
            except (OSError, smtplib.SMTPException):
                pass
        self.connection = None


def _not_supported(address: str) -> NotSupported:
    return NotSupported(f'{address}: the server does not accept international addresses '
                        '(SMTPUTF8); not sent')


def _text(value) -> str:
    return value.decode(errors='replace') if isinstance(value, bytes) else str(value)


def smtp_from_option(value: str, *, starttls: bool) -> Smtp:
    """``HOST:PORT`` (credentials from REPORT_SMTP_USER / REPORT_SMTP_PASSWORD)."""
    host, _, port = value.rpartition(':')
    if not host or not port.isdigit():
        raise ReportError(f"--smtp {value!r}: write HOST:PORT, e.g. smtp.example.org:587")
    username = os.environ.get('REPORT_SMTP_USER') or None
    password = os.environ.get('REPORT_SMTP_PASSWORD')
    if username and password is None:
        raise ReportError('REPORT_SMTP_USER is set but REPORT_SMTP_PASSWORD is not')
    return Smtp(host, int(port), starttls=starttls, username=username, password=password)
