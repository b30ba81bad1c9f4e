"""Authentication: who may call without a token, which tokens count, and when they stop counting."""

from __future__ import annotations

import datetime as dt
from typing import Any

import jwt
from sqlalchemy import update

from database import metadata_repo, user_repo
from database.security_tables import UserRow
from database.session import Database
from resolvers.auth import BAD_LOGIN
from server.security import Credentials
from tests.api.conftest import ADMIN_PASSWORD, SECRET, Api, add_user
from tests.api.setup_metamodel import define_basics, publish_hv_new

LOGIN = """mutation($u: String!, $p: String!) { login(username: $u, password: $p) {
  token expiresAt user { username roles } errors { code message path } } }"""
ME = "{ me { username name roles posts orgUnit } }"

UNAUTHENTICATED_CALLS: list[tuple[str, str]] = [
    ("me", ME),
    ("dataItems", "{ dataItems { code } }"),
    ("stages", "{ stages { code } }"),
    ("posts", "{ posts { code } }"),
    ("orgUnits", "{ orgUnits { code } }"),
    ("businessTypes", "{ businessTypes { code } }"),
    ("businessType", '{ businessType(code: "hv_new") { code } }'),
    ("validateBusinessType", '{ validateBusinessType(code: "hv_new") { code } }'),
    ("exportMetamodel", "{ exportMetamodel }"),
    ("case", '{ case(number: "1") { id } }'),
    ("cases", "{ cases { totalCount } }"),
    ("hvNewCases", "{ hvNewCases { totalCount } }"),
    (
        "upsertPost",
        'mutation { upsertPost(input: {code: "intruder", name: "x"}) { post { code } } }',
    ),
    (
        "createHvNewCase",
        'mutation { createHvNewCase(input: {orgUnit: "county", data: {customerName: "x"}})'
        " { case { id } } }",
    ),
    ("publishBusinessType", 'mutation { publishBusinessType(code: "hv_new") { version } }'),
]


def error_codes(body: dict[str, Any]) -> list[str]:
    """`extensions.code` of each top-level error."""
    return [e.get("extensions", {}).get("code") for e in body.get("errors") or []]


async def principal_of(db: Database, username: str) -> user_repo.Principal:
    async with db.read() as session:
        principal = await user_repo.principal_by_username(session, username)
        assert principal is not None
        return principal


async def call_with(api: Api, token: str | None, query: str) -> dict[str, Any]:
    """A raw call with the given Authorization value (or none)."""
    headers = {} if token is None else {"Authorization": token}
    response = await api.client.post("/graphql", json={"query": query}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_every_operation_but_login_needs_a_token(api: Api) -> None:
    await define_basics(api)
    await publish_hv_new(api)
    for name, query in UNAUTHENTICATED_CALLS:
        body = await api.post(query, as_user=None)
        assert body["data"] is None, (name, body)
        assert error_codes(body) == ["UNAUTHENTICATED"], (name, body)
        assert name in body["errors"][0]["message"], (name, body)
    # Nothing the refused mutations asked for happened.
    after = await api.data(
        '{ posts { code } hvNewCases { totalCount } businessType(code: "hv_new") { latestVersion } }'
    )
    assert "intruder" not in [p["code"] for p in after["posts"]]
    assert after["hvNewCases"]["totalCount"] == 0
    assert after["businessType"]["latestVersion"] == 1
    # The same calls with a token are not refused for want of one.
    for name, query in UNAUTHENTICATED_CALLS[:12]:
        body = await api.post(query)
        assert "UNAUTHENTICATED" not in error_codes(body), (name, body)


async def test_login_needs_no_token_and_me_returns_the_caller(api: Api, db: Database) -> None:
    body = await api.data(LOGIN, {"u": "admin", "p": ADMIN_PASSWORD}, as_user=None)
    login = body["login"]
    assert login["errors"] == []
    assert login["user"] == {"username": "admin", "roles": ["ADMIN"]}
    expires = dt.datetime.fromisoformat(login["expiresAt"])
    assert dt.timedelta(hours=11) < expires - dt.datetime.now(dt.UTC) <= dt.timedelta(hours=12)

    await define_basics(api)
    async with db.read() as session:
        county = await metadata_repo.get_org_unit(session, "county")
    assert county is not None
    await add_user(db, "wang", ["STAFF", "MANAGER"], org_unit_id=county.id, posts=["surveyor"])
    me = await api.data(ME, as_user="wang")
    assert me["me"] == {
        "username": "wang",
        "name": "Wang",
        "roles": ["MANAGER", "STAFF"],
        "posts": ["surveyor"],
        "orgUnit": "county",
    }
    assert (await api.data(ME))["me"]["username"] == "admin"


async def test_introspection_needs_no_token(api: Api) -> None:
    body = await api.data(
        '{ __schema { queryType { name } mutationType { name } } __type(name: "Query") { name } }',
        as_user=None,
    )
    assert body["__schema"] == {
        "queryType": {"name": "Query"},
        "mutationType": {"name": "Mutation"},
    }
    assert body["__type"] == {"name": "Query"}
    assert (await api.data("{ __typename }", as_user=None)) == {"__typename": "Query"}
    # Introspection does not open a protected field selected next to it.
    mixed = await api.post("{ __typename exportMetamodel }", as_user=None)
    assert mixed["data"] is None and error_codes(mixed) == ["UNAUTHENTICATED"]


async def test_wrong_password_and_unknown_user_are_told_apart_by_nothing(api: Api) -> None:
    answers = []
    for username, password in [
        ("admin", "not-the-password"),
        ("nobody", "not-the-password"),
        ("nobody", ADMIN_PASSWORD),
        ("admin", ""),
    ]:
        login = (await api.data(LOGIN, {"u": username, "p": password}, as_user=None))["login"]
        assert login["token"] is None and login["user"] is None, login
        answers.append(login["errors"])
    assert answers[0] == [{"code": "VALIDATION", "message": BAD_LOGIN, "path": ["password"]}]
    assert all(a == answers[0] for a in answers), answers


async def test_bad_tokens_count_as_no_token(api: Api, db: Database) -> None:
    admin = await principal_of(db, "admin")
    now = dt.datetime.now(dt.UTC)
    good, _ = Credentials(SECRET).issue_token(admin, now=now)
    forged, _ = Credentials("another-secret-of-the-same-length-0123456789").issue_token(
        admin, now=now
    )
    expired, expired_at = Credentials(SECRET).issue_token(admin, now=now - dt.timedelta(hours=13))
    assert expired_at < now
    claims = jwt.decode(good, SECRET, algorithms=["HS256"])
    unsigned = jwt.encode(claims, None, algorithm=None)
    other_epoch = jwt.encode({**claims, "epoch": claims["epoch"] + 1}, SECRET, algorithm="HS256")
    no_expiry = jwt.encode({k: v for k, v in claims.items() if k != "exp"}, SECRET, "HS256")
    unknown_user = jwt.encode({**claims, "sub": "987654"}, SECRET, algorithm="HS256")
    tampered = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")

    assert (await call_with(api, f"Bearer {good}", ME))["data"]["me"]["username"] == "admin"
    assert (await call_with(api, f"bearer {good}", ME))["data"]["me"]["username"] == "admin"
    for label, header in [
        ("no header", None),
        ("empty", ""),
        ("garbage", "Bearer not-a-token"),
        ("empty bearer", "Bearer "),
        ("other scheme", f"Token {good}"),
        ("forged", f"Bearer {forged}"),
        ("expired", f"Bearer {expired}"),
        ("alg none", f"Bearer {unsigned}"),
        ("tampered", f"Bearer {tampered}"),
        ("other epoch", f"Bearer {other_epoch}"),
        ("no expiry", f"Bearer {no_expiry}"),
        ("unknown user", f"Bearer {unknown_user}"),
    ]:
        body = await call_with(api, header, ME)
        assert body["data"] is None, (label, body)
        assert error_codes(body) == ["UNAUTHENTICATED"], (label, body)
        # login itself still works with a bad token attached
        login = await api.client.post(
            "/graphql",
            json={"query": LOGIN, "variables": {"u": "admin", "p": ADMIN_PASSWORD}},
            headers={} if header is None else {"Authorization": header},
        )
        assert login.json()["data"]["login"]["token"], (label, login.text)


async def test_a_new_password_ends_old_tokens(api: Api, db: Database) -> None:
    await add_user(db, "li", ["STAFF"])
    old = await api.token("li")
    assert (await api.data(ME, as_user="li"))["me"]["username"] == "li"
    await add_user(db, "li", ["STAFF"], password="a-brand-new-password")  # bumps token_epoch

    body = await call_with(api, f"Bearer {old}", ME)
    assert body["data"] is None and error_codes(body) == ["UNAUTHENTICATED"]
    refused = (await api.data(LOGIN, {"u": "li", "p": "li-password"}, as_user=None))["login"]
    assert refused["token"] is None and refused["errors"][0]["message"] == BAD_LOGIN
    fresh = (await api.data(LOGIN, {"u": "li", "p": "a-brand-new-password"}, as_user=None))["login"]
    assert fresh["errors"] == []
    body = await call_with(api, f"Bearer {fresh['token']}", ME)
    assert body["data"]["me"]["username"] == "li"


async def test_saving_a_user_without_a_password_keeps_tokens_but_applies_new_roles(
    api: Api, db: Database
) -> None:
    await add_user(db, "zhao", ["ADMIN"])
    token = await api.token("zhao")
    assert (await api.data("{ exportMetamodel }", as_user="zhao"))["exportMetamodel"]
    async with db.transaction() as session:
        await user_repo.save(
            session,
            username="zhao",
            name="Zhao",
            password_hash=None,
            roles=["STAFF"],
            org_unit_id=None,
            post_codes=[],
            now=dt.datetime.now(dt.UTC),
        )
    me = await call_with(api, f"Bearer {token}", ME)
    assert me["data"]["me"]["roles"] == ["STAFF"]  # same token, roles read afresh
    refused = await call_with(api, f"Bearer {token}", "{ exportMetamodel }")
    assert error_codes(refused) == ["FORBIDDEN"]


async def test_a_disabled_user_gets_no_token_and_old_tokens_stop(api: Api, db: Database) -> None:
    await add_user(db, "sun", ["ADMIN"])
    token = await api.token("sun")
    assert (await call_with(api, f"Bearer {token}", ME))["data"]["me"]["username"] == "sun"
    async with db.transaction() as session:
        await session.execute(
            update(UserRow).where(UserRow.username == "sun").values(disabled=True)
        )

    body = await call_with(api, f"Bearer {token}", ME)
    assert body["data"] is None and error_codes(body) == ["UNAUTHENTICATED"]
    login = (await api.data(LOGIN, {"u": "sun", "p": "sun-password"}, as_user=None))["login"]
    assert login["token"] is None
    assert login["errors"] == [{"code": "VALIDATION", "message": BAD_LOGIN, "path": ["password"]}]


async def test_a_token_from_a_server_a_few_seconds_ahead_is_accepted(
    api: Api, db: Database
) -> None:
    admin = await principal_of(db, "admin")
    ahead, _ = Credentials(SECRET).issue_token(
        admin, now=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)
    )
    body = await call_with(api, f"Bearer {ahead}", ME)
    assert body["data"]["me"]["username"] == "admin", body


async def test_a_signed_token_with_malformed_claims_counts_as_no_token(
    api: Api, db: Database
) -> None:
    admin = await principal_of(db, "admin")
    good, _ = Credentials(SECRET).issue_token(admin)
    claims = jwt.decode(good, SECRET, algorithms=["HS256"])
    without_epoch = {k: v for k, v in claims.items() if k != "epoch"}
    for label, changed in [
        ("sub not a number", {**claims, "sub": "abc"}),
        ("sub null", {**claims, "sub": None}),
        ("sub empty", {**claims, "sub": ""}),
        ("sub negative", {**claims, "sub": "-1"}),
        ("sub huge", {**claims, "sub": "9" * 40}),
        ("sub past int64", {**claims, "sub": str(2**63)}),
        ("sub an integer", {**claims, "sub": 10**30}),
        ("sub other digits", {**claims, "sub": "١"}),
        ("sub with spaces", {**claims, "sub": f" {claims['sub']} "}),
        ("sub a list", {**claims, "sub": [claims["sub"]]}),
        ("no epoch", without_epoch),
        ("epoch null", {**claims, "epoch": None}),
        ("epoch a string", {**claims, "epoch": str(claims["epoch"])}),
        ("epoch a boolean", {**claims, "epoch": bool(claims["epoch"])}),
        ("epoch a float", {**claims, "epoch": float(claims["epoch"])}),
        ("epoch huge", {**claims, "epoch": 10**30}),
    ]:
        token = jwt.encode(changed, SECRET, algorithm="HS256")
        body = await call_with(api, f"Bearer {token}", ME)
        assert body["data"] is None, (label, body)
        assert error_codes(body) == ["UNAUTHENTICATED"], (label, body)
    # The untouched token still works.
    assert (await call_with(api, f"Bearer {good}", ME))["data"]["me"]["username"] == "admin"
