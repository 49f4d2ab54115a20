"""Errors a user can act on, kept apart from bugs.

A :class:`UserError` is the user's input or setup being wrong: the CLI prints its
message (in Chinese and English) without a traceback and exits with status 2.
Anything else is our bug and keeps its traceback.
"""

from __future__ import annotations


class UserError(Exception):
    """Something the user can fix; ``code`` is stable for scripts and the API."""

    code = "user_error"

    def __init__(self, message: str, *, zh: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.zh = zh
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return self.message if not self.zh else f"{self.message}\n{self.zh}"


class ConfigError(UserError):
    code = "config_error"


class ImportFormatError(UserError):
    """An export cannot be read at all (wrong format, unreadable file)."""

    code = "import_format"


class StrictImportAborted(UserError):
    """``--strict`` met a bad record: nothing was written."""

    code = "import_strict_aborted"


class NotFound(UserError):
    """A named thing (group, member, user, token, job) does not exist or is not visible."""

    code = "not_found"


class Conflict(UserError):
    """The request clashes with what exists (a user name taken, a job already finished)."""

    code = "conflict"


class AuthenticationFailed(UserError):
    """Wrong or missing credentials; deliberately vague about which part was wrong."""

    code = "unauthenticated"


class PermissionDenied(UserError):
    """The caller is known but their role or group scope does not allow this."""

    code = "forbidden"


class TooManyAttempts(UserError):
    """Login attempts are rate-limited; ``retry_after`` is in seconds."""

    code = "rate_limited"

    def __init__(self, message: str, *, zh: str | None = None, retry_after: int = 60) -> None:
        super().__init__(message, zh=zh)
        self.retry_after = retry_after
