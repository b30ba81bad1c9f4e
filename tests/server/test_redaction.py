"""A document that fails with a secret written inline does not log the secret."""

from __future__ import annotations

import logging

import pytest

from server.redaction import redact
from tests.api.conftest import Api

SECRET_VALUE = "hunter2-Pa55word"
FAILING: dict[str, str] = {
    "validation": f'mutation {{ login(username: "admin", password: "{SECRET_VALUE}") {{ nonsense }} }}',
    "parse": f'mutation {{ login(username: "admin", password: "{SECRET_VALUE}") {{',
    "wrong type": '{ caseProgress(number: "X", accessCode: 98765432) { status } }',
    "block string": f'mutation {{ login(username: "a", password: """{SECRET_VALUE}""") {{ nonsense }} }}',
}


@pytest.mark.parametrize("name", list(FAILING))
async def test_an_inline_secret_in_a_failing_document_is_not_logged(
    api: Api, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    with caplog.at_level(logging.INFO):
        body = await api.post(FAILING[name], as_user=None)
    assert body["errors"]
    assert caplog.records, "the failure was logged"
    assert SECRET_VALUE not in caplog.text and "98765432" not in caplog.text, caplog.text
    assert "[REDACTED]" in caplog.text


async def test_variables_are_not_logged(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    document = 'mutation($p: String!) { login(username: "admin", password: $p) { nonsense } }'
    with caplog.at_level(logging.DEBUG):
        body = await api.post(document, {"p": SECRET_VALUE}, as_user=None)
    assert body["errors"]
    assert SECRET_VALUE not in caplog.text


def test_redact_keeps_what_is_not_secret() -> None:
    text = '{ login(username: "ann", password: "pw-1") { token } caseProgress(accessCode: ABC) }'
    assert redact(text) == (
        '{ login(username: "ann", password: "[REDACTED]") { token } '
        'caseProgress(accessCode: "[REDACTED]") }'
    )
