"""The checking layer every store is built on.

* :mod:`.store`: :class:`CheckedStore`, the public verbs: check the
  arguments, open the store's transaction, call the store's work;
* :mod:`.arguments`: the argument rules, each written once;
* :mod:`.verbs`: the work a store supplies, in five parts.
"""

from .store import CheckedStore

__all__ = ["CheckedStore"]
