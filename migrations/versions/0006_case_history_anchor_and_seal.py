"""case history anchor and seal

The case row keeps its history's length and head, and an HMAC over them with a key kept
outside the database. Existing cases get their length and head from their events; they are
sealed here when the migration is handed the keys (`yekuo db upgrade` does that), and are
otherwise left unsealed for `yekuo history rekey --seal-unsealed`.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

from casework import history

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000

case = sa.table(
    "case",
    sa.column("id", sa.BigInteger()),
    sa.column("history_length", sa.Integer()),
    sa.column("history_head", sa.String()),
    sa.column("history_mac", sa.String()),
    sa.column("history_key_id", sa.String()),
)
event = sa.table(
    "case_event",
    sa.column("case_id", sa.BigInteger()),
    sa.column("seq", sa.Integer()),
    sa.column("hash", sa.String()),
)


def upgrade() -> None:
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("history_length", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "history_head",
                sa.String(length=64),
                server_default=history.GENESIS,
                nullable=False,
            )
        )
        batch_op.add_column(sa.Column("history_mac", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("history_key_id", sa.String(length=32), nullable=True))
    _backfill(context.config.attributes.get("history_keys"))


def _backfill(keys: history.Keyring | None) -> None:
    """Length and head from each case's events, in batches of cases; sealed when keys are given."""
    bind = op.get_bind()
    counts = (
        sa.select(
            event.c.case_id,
            sa.func.count().label("length"),
            sa.func.max(event.c.seq).label("last"),
        )
        .group_by(event.c.case_id)
        .subquery()
    )
    after = 0
    while True:
        ids = list(
            bind.execute(
                sa.select(case.c.id).where(case.c.id > after).order_by(case.c.id).limit(BATCH)
            ).scalars()
        )
        if not ids:
            return
        after = ids[-1]
        heads = {
            case_id: (int(length), head)
            for case_id, length, head in bind.execute(
                sa.select(counts.c.case_id, counts.c.length, event.c.hash)
                .join(
                    event,
                    sa.and_(event.c.case_id == counts.c.case_id, event.c.seq == counts.c.last),
                )
                .where(counts.c.case_id.in_(ids))
            )
        }
        rows = []
        for case_id in ids:
            length, head = heads.get(case_id, (0, history.GENESIS))
            mac = history.seal(keys.current, case_id, length, head) if keys else None
            rows.append(
                {
                    "case_id": case_id,
                    "length": length,
                    "head": head,
                    "mac": mac,
                    "key_id": keys.current.id if keys else None,
                }
            )
        bind.execute(
            case.update()
            .where(case.c.id == sa.bindparam("case_id"))
            .values(
                history_length=sa.bindparam("length"),
                history_head=sa.bindparam("head"),
                history_mac=sa.bindparam("mac"),
                history_key_id=sa.bindparam("key_id"),
            ),
            rows,
        )


def downgrade() -> None:
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_column("history_key_id")
        batch_op.drop_column("history_mac")
        batch_op.drop_column("history_head")
        batch_op.drop_column("history_length")
