"""Secrets written inline in a GraphQL document never reach the log.

strawberry logs every GraphQL error with the lines of the document it points at, so a query
that fails to parse or validate with `password: "…"` inline would log the password. A filter
on that logger rewrites each such record with the values of arguments and input fields named
like secrets replaced (in the document's lines and in the message). Variables are never logged.
"""

from __future__ import annotations

import logging
import re

REDACTED = '"[REDACTED]"'
GRAPHQL_LOGGER = "strawberry.execution"
_SECRET_NAME = (
    r"[A-Za-z_0-9]*(?:password|passwd|passphrase|secret|token|accesscode|access_code|apikey"
    r"|api_key|credential|privatekey|private_key)[A-Za-z_0-9]*"
)
_VALUE = r'"""(?:[^"\\]|\\.|"(?!""))*+"""|"(?:[^"\\\n]|\\.)*+"?|[^\s,)}\]]+'
_ARGUMENT = re.compile(rf"\b({_SECRET_NAME})(\s*:\s*)({_VALUE})", re.IGNORECASE)


def redact(text: str) -> str:
    """`text` with the value of every argument or field named like a secret replaced."""
    values = {m.group(3) for m in _ARGUMENT.finditer(text)}
    redacted = _ARGUMENT.sub(lambda m: m.group(1) + m.group(2) + REDACTED, text)
    for value in sorted(values, key=len, reverse=True):
        bare = value.strip('"')
        if len(bare) >= 3:  # the message may quote the value itself ("… value: 12345")
            redacted = redacted.replace(bare, "[REDACTED]")
    return redacted


class RedactSecrets(logging.Filter):
    """Rewrites GraphQL error records so that inline secrets are not logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record in place; never drops it."""
        try:
            text = record.getMessage()
        except Exception:  # a record that cannot format: leave it to logging's own handling
            return True
        record.msg, record.args = redact(text), ()
        return True


def install() -> None:
    """Put the filter on the GraphQL error logger (once per process)."""
    logger = logging.getLogger(GRAPHQL_LOGGER)
    if not any(isinstance(f, RedactSecrets) for f in logger.filters):
        logger.addFilter(RedactSecrets())
