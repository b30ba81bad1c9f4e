"""An anonymous attacker for bench/load.py: a fragment bomb, a 1 MB body, 300k tokens and the
longest document the server parses.

Every ATTACK_EVERY seconds it sends each attack at once (without waiting for earlier answers)
and records what came back: the status, the first error message and how long the answer took.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from cpu_accounting import percentile

from schema.limits import MAX_DOCUMENT_LENGTH

ATTACK_EVERY = 1.0
BODY_BYTES = 1_000_000
TOKENS = 300_000
FRAGMENTS = 40


def fragment_bomb(nonce: int) -> bytes:
    """F0 selects `me`; each F_i spreads F_(i-1) twice: 2^40 fields if expanded naively."""
    fragments = ["fragment F0 on Query { me { username } }"]
    fragments += [
        f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, FRAGMENTS + 1)
    ]
    query = f"query {{ ...F{FRAGMENTS} }} # {nonce}\n" + "\n".join(fragments)
    return json.dumps({"query": query}).encode()


def padded_body(nonce: int) -> bytes:
    """A small query padded with spaces to exactly BODY_BYTES of JSON."""
    small = f"query {{ me {{ username }} }} # {nonce}\n"
    padding = BODY_BYTES - len(json.dumps({"query": small}).encode())
    body = json.dumps({"query": small + " " * padding}).encode()
    assert len(body) == BODY_BYTES
    return body


def longest_document(nonce: int) -> bytes:
    """A small query padded with spaces to the longest document the server still parses."""
    small = f"query {{ me {{ username }} }} # {nonce}\n"
    return json.dumps({"query": small + " " * (MAX_DOCUMENT_LENGTH - len(small))}).encode()


def token_flood(nonce: int) -> bytes:
    """A query of TOKENS tokens (selections of `me`)."""
    selections = "me " * (TOKENS - 3)  # `query`, `{` and `}` are the other three
    return json.dumps({"query": f"# {nonce}\nquery {{ {selections}}}"}).encode()


ATTACKS: dict[str, Callable[[int], bytes]] = {
    "fragment bomb": fragment_bomb,
    "1 MB body": padded_body,
    "longest document": longest_document,
    "300k tokens": token_flood,
}
"""Each attack's body; a different nonce (in a comment) each time, so no cache answers it."""


@dataclass
class Attacker:
    """Every answer the attacker got: (status, first error message, seconds) by attack."""

    answers: dict[str, list[tuple[str, str, float]]] = field(
        default_factory=lambda: defaultdict(list)
    )

    async def send(self, client: httpx.AsyncClient, name: str, body: bytes) -> None:
        """One attack, anonymous; its answer recorded."""
        headers = {"Content-Type": "application/json"}
        started = time.perf_counter()
        try:
            response = await client.post("/graphql", content=body, headers=headers)
        except httpx.HTTPError as error:
            self.answers[name].append((type(error).__name__, str(error)[:120], 0.0))
            return
        elapsed = time.perf_counter() - started
        try:
            message = str(response.json()["errors"][0]["message"])
        except (ValueError, KeyError, IndexError, TypeError):
            message = response.text[:120]
        self.answers[name].append((str(response.status_code), message[:160], elapsed))

    async def run(self, url: str, stop: asyncio.Event) -> None:
        """Every ATTACK_EVERY seconds, each attack at once, until `stop`; then await them all."""
        async with httpx.AsyncClient(base_url=url, timeout=60.0) as client:
            sent: list[asyncio.Task[None]] = []
            while not stop.is_set():
                nonce = len(sent)
                sent += [
                    asyncio.create_task(self.send(client, name, attack(nonce)))
                    for name, attack in ATTACKS.items()
                ]
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), ATTACK_EVERY)
            await asyncio.gather(*sent)


def print_answers(attacker: Attacker) -> None:
    """What each attack got back: answers by status and first error, and how long they took."""
    print("\nattacker (anonymous, each attack once a second):")
    for name, answers in attacker.answers.items():
        kinds = Counter((status, message) for status, message, _ in answers)
        slowest = max(seconds for _, _, seconds in answers) * 1000
        median = percentile([s for _, _, s in answers], 0.5) * 1000
        print(
            f"  {name} ({len(answers)} sent; answered in p50 {median:.0f} ms, max {slowest:.0f} ms)"
        )
        for (status, message), count in kinds.most_common():
            print(f"    {count} x {status}: {message}")
