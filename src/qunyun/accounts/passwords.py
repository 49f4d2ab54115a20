"""Password hashing with Argon2id (argon2-cffi's defaults follow RFC 9106's advice)."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from qunyun.errors import UserError

_hasher = PasswordHasher()
MIN_LENGTH = 10
#: a hash of a random password, verified against when the user does not exist so a
#: wrong name takes as long as a wrong password
DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def check_password(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise UserError(
            f"the password must have at least {MIN_LENGTH} characters",
            zh=f"密码至少需要 {MIN_LENGTH} 个字符",
            code="weak_password",
        )


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def one_time_password() -> str:
    """A password to print once: 16 random url-safe characters (~96 bits)."""
    return secrets.token_urlsafe(12)
