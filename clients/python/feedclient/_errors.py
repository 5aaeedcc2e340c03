"""feed-server's errors as exceptions named after their Redis error code."""

from __future__ import annotations

from typing import Dict, Type

import redis


class FeedServerError(Exception):
    """An error reply; ``code`` is its Redis error code (ERR, TRYAGAIN, …)."""

    code = "ERR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Err(FeedServerError):
    """ERR: bad input, no such post, a refused follow… Nothing changed."""

    code = "ERR"


class TryAgain(FeedServerError):
    """TRYAGAIN: PostgreSQL is behind or away; the command did not happen. Retry later."""

    code = "TRYAGAIN"


class Oom(FeedServerError):
    """OOM: a write past --maxmemory that eviction could not make room for; it did not happen."""

    code = "OOM"


class NoAuth(FeedServerError):
    code = "NOAUTH"


class WrongPass(FeedServerError):
    code = "WRONGPASS"


class Timeout(FeedServerError):
    """TIMEOUT: FEED.SYNC's writes were not committed to PostgreSQL in time."""

    code = "TIMEOUT"


_BY_CODE: Dict[str, Type[FeedServerError]] = {
    cls.code: cls for cls in (Err, TryAgain, Oom, NoAuth, WrongPass, Timeout)
}


def translate(error: redis.RedisError) -> Exception:
    """The feed-server exception for a redis-py error reply; other errors as they are."""
    text = str(error)
    if isinstance(error, redis.exceptions.AuthenticationError):
        return (WrongPass if "WRONGPASS" in text or "invalid" in text else NoAuth)(text)
    if isinstance(error, redis.exceptions.OutOfMemoryError):
        return Oom(text)
    if not isinstance(error, redis.ResponseError):
        return error
    code, _, rest = text.partition(" ")
    if code in _BY_CODE and code != "ERR":
        return _BY_CODE[code](rest)
    return Err(text)  # redis-py drops the "ERR " itself
