"""What changed, kept by the database layer itself: no writer has to remember it.

The data carries a generation: one counter (table `data_generation`) that moves once per
transaction that writes to a table with a `changed_in` column (the `Changing` mixin), and
every row such a transaction inserts or updates is stamped with the new value. The stamp
is the column's own default and onupdate, so an ORM flush, a bulk `update()` or an
executemany `insert()` all stamp it; deleting a changing row moves the counter too.

Moving the counter locks its row until the transaction ends, so transactions that write
changing data take their generations in the order they commit: once a reader has seen
generation G committed, every row stamped G or lower is visible to it, and anything
written later is stamped higher. Readers use that two ways:

- a cache keyed on the generation (core.audit_marks) is valid while it stands still;
- a reader that noted the generation when it began (the milestone scan) finds what
  changed since in the rows stamped higher (`changed_in > G`, one index each).

On PostgreSQL the counter is moved under the audit chain's lock, taken first, which every
audited writer takes too: one lock order, so writers never deadlock on the two. A write
whose only effect is derived from other changing data (the scan's overdue flags) keeps
its rows' stamps with `kept_stamp(table)` and moves the counter with `advance()`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    DDL,
    BigInteger,
    Connection,
    Integer,
    Table,
    event,
    select,
    text,
    update,
)
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import (
    Mapped,
    ORMExecuteState,
    Session,
    UOWTransaction,
    mapped_column,
)

from grants.core.audit import CHAIN_LOCK_KEY
from grants.core.models import Base

_INFO_KEY = "grants.generation"


class DataGeneration(Base):
    """The one row whose value moves with every transaction that changes data."""

    __tablename__ = "data_generation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


GENERATION: Table = DataGeneration.__table__  # type: ignore[assignment]
event.listen(
    GENERATION, "after_create", DDL("INSERT INTO data_generation (id, value) VALUES (1, 0)")
)


def _stamp(context: DefaultExecutionContext) -> int:
    return moved(context.connection)


class Changing:
    """A table whose rows say in which generation they last changed."""

    changed_in: Mapped[int] = mapped_column(
        BigInteger, default=_stamp, onupdate=_stamp, server_default="0", index=True
    )


def moved(connection: Connection) -> int:
    """The generation of the transaction on `connection`: moved once, on its first write."""
    transaction = connection.get_transaction()
    held = connection.info.get(_INFO_KEY)
    if held is not None and transaction is not None and held[0] is transaction:
        return int(held[1])
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY})
    connection.execute(update(GENERATION).values(value=GENERATION.c.value + 1))
    value = int(connection.execute(select(GENERATION.c.value)).scalar_one())
    connection.info[_INFO_KEY] = (transaction, value)
    return value


def advance(session: Session) -> int:
    """Move the generation of the session's transaction (for writes that keep stamps)."""
    return moved(session.connection())


def written(session: Session) -> bool:
    """Whether the session's transaction has moved the generation (its writes may still be
    rolled back, and the value then reused)."""
    transaction = session.connection().get_transaction()
    held = session.connection().info.get(_INFO_KEY)
    return held is not None and transaction is not None and held[0] is transaction


def current(session: Session) -> int:
    """The latest committed generation (or this transaction's own, once it wrote)."""
    return int(session.scalar(select(GENERATION.c.value)) or 0)


def kept_stamp(table: Any) -> dict[str, Any]:
    """SET values that leave the rows' stamps as they were (a derived write)."""
    return {"changed_in": table.c.changed_in}


def _changing(table: Any) -> bool:
    return isinstance(table, Table) and "changed_in" in table.c


@event.listens_for(Session, "before_flush")
def _deleting(session: Session, _flush: UOWTransaction, _instances: Any) -> None:
    """A deleted row has no stamp left to read: the generation moves for it."""
    if any(isinstance(instance, Changing) for instance in session.deleted):
        advance(session)


@event.listens_for(Session, "do_orm_execute")
def _bulk_deleting(state: ORMExecuteState) -> None:
    if state.is_delete and _changing(getattr(state.statement, "table", None)):
        advance(state.session)
