"""Mailbox passwords, encrypted at rest with EMAIL_CREDENTIALS_KEY (Fernet: AES + HMAC).

The key comes from the environment only; without it (and without DEBUG, where one is derived
from SECRET_KEY) nobody can connect a mailbox, rather than storing a password we could lose.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


class CredentialsUnavailable(Exception):
    """No key is configured, or the stored password was encrypted with another key."""


def _fernet() -> Fernet:
    key = settings.EMAIL_CREDENTIALS_KEY
    if not key:
        raise CredentialsUnavailable(
            "Mailbox connections are not set up on this server: the administrator has to set "
            "EMAIL_CREDENTIALS_KEY."
        )
    return Fernet(key.encode())


def credentials_configured() -> bool:
    return bool(settings.EMAIL_CREDENTIALS_KEY)


def password_encrypt(password: str) -> str:
    return _fernet().encrypt(password.encode()).decode()


def password_decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise CredentialsUnavailable(
            "The stored password can no longer be read (EMAIL_CREDENTIALS_KEY changed): "
            "connect the mailbox again."
        ) from None
