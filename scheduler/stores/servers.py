"""Which MariaDB and MySQL servers the SQL stores run on, and what they need of a session.

Both SQL stores ask the same three questions of a MariaDB or MySQL database
when they start, and refuse it with what to change:

- the server's version: claims need ``SELECT ... FOR UPDATE SKIP LOCKED``
  (MariaDB 10.6, MySQL 8.0.1) and pruning needs window functions;
- the session's isolation level: ``READ COMMITTED``.  Under InnoDB's default
  ``REPEATABLE READ`` the claim's locking read of the due-job index would also
  lock the gaps between the rows it reads, so replicas advancing their jobs'
  next run times into each other's gaps wait on each other and deadlock; with
  ``READ COMMITTED`` InnoDB locks the rows it returns and nothing else, as
  PostgreSQL does.  Exactly-once firing rests on those row locks and the
  unique slot constraint, at any level;
- the connection's character set: ``utf8mb4`` (MySQL's ``utf8`` is three-byte
  UTF-8, which cannot hold an emoji in a job's description or a run's error).

Nothing here imports a database library.
"""

from __future__ import annotations

from ..errors import SchedulerError

__all__ = ["MARIADB_MINIMUM", "MYSQL_MINIMUM", "UnsupportedDatabase", "mysql_refusal"]

#: The oldest MariaDB with ``SKIP LOCKED``.
MARIADB_MINIMUM = (10, 6)
#: The oldest MySQL with ``SKIP LOCKED`` (and window functions).
MYSQL_MINIMUM = (8, 0, 1)


class UnsupportedDatabase(SchedulerError):
    """The database server, or the session the store got, cannot keep the store's promises."""


def mysql_refusal(
    version: tuple[int, ...], *, mariadb: bool, isolation: str, charset: str
) -> str | None:
    """Why a MariaDB (``mariadb``) or MySQL server at ``version``, with a session in
    ``isolation`` and ``charset``, cannot hold the store, and what to change; ``None`` if it can.

    ``isolation`` may be written as SQL (``READ COMMITTED``), as the server
    variable (``READ-COMMITTED``) or as Django's option (``read committed``).
    """
    product, minimum = ("MariaDB", MARIADB_MINIMUM) if mariadb else ("MySQL", MYSQL_MINIMUM)
    problems: list[str] = []
    if tuple(version) < minimum:
        problems.append(
            f"{product} {_dotted(version)} is too old: Tickwork needs {product} "
            f"{_dotted(minimum)} or later (SELECT ... FOR UPDATE SKIP LOCKED); upgrade the server"
        )
    level = isolation.replace("-", " ").replace("_", " ").upper()
    if level != "READ COMMITTED":
        problems.append(
            f"the session's isolation level is {level or 'unknown'}, and Tickwork needs "
            "READ COMMITTED (under REPEATABLE READ InnoDB locks the gaps between due jobs "
            "and replicas deadlock): leave Django's OPTIONS 'isolation_level' at "
            "'read committed', or give the store an engine made with "
            "isolation_level='READ COMMITTED'"
        )
    if charset.lower() != "utf8mb4":
        problems.append(
            f"the connection's character set is {charset or 'unknown'}, and Tickwork needs "
            "utf8mb4 (MySQL's utf8 holds no four-byte character): set OPTIONS "
            "{'charset': 'utf8mb4'} in Django's DATABASES, or ?charset=utf8mb4 in the URL"
        )
    return "; ".join(problems) or None


def _dotted(version: tuple[int, ...]) -> str:
    return ".".join(str(part) for part in version)
