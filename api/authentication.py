"""`Authorization: Bearer <token>` for the REST API, with per-user tokens."""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from accounts.models import User
from api import selectors, services
from api.models import ApiToken

KEYWORD = b"bearer"


class ApiTokenAuthentication(BaseAuthentication):
    """Authenticates a request by one of the user's API tokens (see Settings → API tokens).

    A request without an Authorization header is left to the next class (the session), so
    the docs page works in the browser; a wrong, malformed or revoked token is a 401.
    """

    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                "Send the token as “Authorization: Bearer <token>”."
            )
        try:
            key = parts[1].decode("ascii")
        except UnicodeDecodeError as error:
            raise exceptions.AuthenticationFailed("This API token is not valid.") from error
        token = selectors.api_token_for_key(key)
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed("This API token is not valid or was revoked.")
        services.api_token_touch(token=token)
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'
