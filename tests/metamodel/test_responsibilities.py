"""Assigning a responsibility ends the one it replaces; the others stay as they are."""

from __future__ import annotations

import datetime as dt

from metamodel import responsibilities
from metamodel.responsibilities import Responsibility
from metamodel.specs import ResponsibilitySpec

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
BEFORE = NOW - dt.timedelta(days=30)


def test_the_replaced_responsibility_ends_when_the_new_one_starts() -> None:
    current = [
        Responsibility("survey", "surveyor", None, None, BEFORE),
        Responsibility("survey", "surveyor", "lv_new", None, BEFORE),
    ]
    after = responsibilities.assign(current, ResponsibilitySpec("survey", "engineer"), NOW)
    assert after == [
        Responsibility("survey", "engineer", None, None, NOW),
        Responsibility("survey", "surveyor", None, None, BEFORE, NOW),
        Responsibility("survey", "surveyor", "lv_new", None, BEFORE),
    ]
    assert responsibilities.is_assigned(after, ResponsibilitySpec("survey", "engineer"), NOW)
    assert not responsibilities.is_assigned(after, ResponsibilitySpec("survey", "surveyor"), NOW)
    assert responsibilities.in_effect(after, NOW) == [
        ResponsibilitySpec("survey", "engineer"),
        ResponsibilitySpec("survey", "surveyor", "lv_new"),
    ]


def test_one_replaced_before_it_began_keeps_an_empty_period() -> None:
    later = NOW + dt.timedelta(days=3)
    current = [Responsibility("survey", "surveyor", None, None, later)]
    [new, old] = responsibilities.assign(current, ResponsibilitySpec("survey", "engineer"), NOW)
    assert (old.effective_from, old.effective_to) == (later, later)
    assert new == Responsibility("survey", "engineer", None, None, NOW)
