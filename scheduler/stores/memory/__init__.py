"""An in-memory :class:`~scheduler.stores.base.Store`: the reference semantics.

Everything lives in dictionaries behind one re-entrant lock, so a
:class:`MemoryStore` is safe to share between threads and every method is
atomic.  It is what the engine's tests and embedded uses run on, and what the
contract tests in ``tests/contract/`` hold the database stores to.

Nothing survives the process: use the SQLAlchemy or Django store for that.

* :mod:`.store`: :class:`MemoryStore`, the lock around its state;
* :mod:`.state`: what it holds, and the moves every verb makes on it;
* :mod:`.jobs`, :mod:`.claims`, :mod:`.runs`, :mod:`.replicas`, :mod:`.history`:
  the work of its verbs, by what they touch.
"""

from .store import MemoryStore

__all__ = ["MemoryStore"]
