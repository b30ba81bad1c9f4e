"""The media types /graphql answers in, and choosing one from a request's Accept header.

GraphQL over HTTP answers `application/graphql-response+json` when a client names it and
`application/json` otherwise (the spec takes a missing Accept as the latter).
"""

from __future__ import annotations

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


def negotiate(accept: str | None) -> str | None:
    """The media type to answer in for an Accept header; None if it accepts neither."""
    if not accept or not accept.strip():
        return JSON  # the spec: no Accept is taken as application/json
    best: dict[str, tuple[float, int]] = {GRAPHQL_RESPONSE: (0.0, -1), JSON: (0.0, -1)}
    for part in accept.split(",")[:32]:  # bounded: a client gains nothing from more ranges
        media, *params = (p.strip() for p in part.split(";"))
        media = media.lower()
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = max(0.0, min(1.0, float(value)))
                except ValueError:
                    quality = 0.0
        for offered in best:
            specificity = _specificity(media, offered)
            if specificity > best[offered][1]:
                best[offered] = (quality, specificity)
    graphql_q, graphql_specificity = best[GRAPHQL_RESPONSE]
    json_q, _ = best[JSON]
    if graphql_q <= 0 and json_q <= 0:
        return None
    if graphql_q > json_q or (graphql_q == json_q and graphql_specificity == 2):
        return GRAPHQL_RESPONSE  # named explicitly and as wanted as application/json: preferred
    return JSON


def _specificity(media: str, offered: str) -> int:
    """How closely a media range names `offered`: 2 exactly, 1 by `type/*`, 0 by `*/*`."""
    if media == offered:
        return 2
    if media == offered.split("/")[0] + "/*":
        return 1
    return 0 if media == "*/*" else -1
