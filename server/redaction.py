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
SECRET_WORDS = (
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "accesscode",
    "access_code",
    "apikey",
    "api_key",
    "credential",
    "privatekey",
    "private_key",
)
"""An argument or input field whose name contains one of these (any case) holds a secret."""
# Possessive quantifiers and a name checked outside the pattern keep the scan linear: the
# document's lines in a logged error may be one line of a megabyte.
_VALUE = r'"""(?:[^"\\]++|\\.?|"(?!""))*+(?:"""|\Z)|"(?:[^"\\\n]|\\.)*+"?|[^\s,(){}\[\]"]++'
_ARGUMENT = re.compile(rf"\b([A-Za-z_][A-Za-z_0-9]*+)(\s*+:\s*+)({_VALUE})")


def _is_secret(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in SECRET_WORDS)


def redact(text: str) -> str:
    """`text` with the value of every argument or field named like a secret replaced."""
    values: set[str] = set()

    def replace(match: re.Match[str]) -> str:
        if not _is_secret(match.group(1)):
            return match.group(0)
        values.add(match.group(3))
        return match.group(1) + match.group(2) + REDACTED

    redacted = _ARGUMENT.sub(replace, text)
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
