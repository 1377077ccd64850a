"""A plain function on a thread of its own, which an event loop can await and interrupt.

The asyncio executor runs a task that is not a coroutine function this way, so
that its event loop is never blocked by it.  Python cannot kill a thread, but
it can raise an exception in one: :meth:`InterruptibleCall.interrupt` raises
:class:`TimeoutError` in the thread at its next Python instruction
(``PyThreadState_SetAsyncExc``).  That stops code that runs Python (a loop, a
series of short sleeps or reads); a call blocked inside C (one long
``time.sleep``, a socket read without a timeout) is interrupted only when it
returns to Python.  The process executor is the one that stops anything.

The thread runs only the call and the few lines around it that hand the result
over, so an exception arriving late cannot land in someone else's code.
"""

from __future__ import annotations

import asyncio
import ctypes
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["InterruptibleCall"]

T = TypeVar("T")


class InterruptibleCall(Generic[T]):
    """``func()`` on a new daemon thread; its result through an asyncio future,
    ``None`` if the call was interrupted (or raised)."""

    def __init__(self, func: Callable[[], T], *, name: str) -> None:
        self._func = func
        self._lock = threading.Lock()
        self._ident: int | None = None
        self._running = False
        self._interrupted = False
        self.returned = threading.Event()  # set once the thread is done with the call
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._future: asyncio.Future[T | None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> asyncio.Future[T | None]:
        """Start the thread; the future (of the running loop) gets what ``func`` returns."""
        self._loop = asyncio.get_running_loop()
        self._future = self._loop.create_future()
        with self._lock:
            self._running = True
        self._thread.start()
        return self._future

    def interrupt(self) -> bool:
        """Raise :class:`TimeoutError` in the thread if it is still in the call.

        Returns whether it was (and so was asked to stop).  Only the first call
        raises: a second exception could land after the first was handled,
        outside the code that expects it.
        """
        with self._lock:
            if not self._running or self._ident is None or self._interrupted:
                return False
            self._interrupted = True
            set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
            set_async_exc(ctypes.c_ulong(self._ident), ctypes.py_object(TimeoutError))
            return True

    def _main(self) -> None:
        self._ident = threading.get_ident()
        result: T | None = None
        try:
            try:
                result = self._func()
            except BaseException:  # noqa: S110 - our interruption: the result is None
                pass
            finally:
                with self._lock:
                    self._running = False
        except TimeoutError:  # the interruption arrived as the call ended
            result = None
        self.returned.set()
        self._hand_over(result)

    def _hand_over(self, result: T | None) -> None:
        loop, future = self._loop, self._future
        assert loop is not None and future is not None  # noqa: S101 - set by start()
        try:
            loop.call_soon_threadsafe(_settle, future, result)
        except RuntimeError:  # the loop is closed (a shutdown gave up on us)
            pass


def _settle(future: asyncio.Future[T | None], result: T | None) -> None:
    if not future.done():
        future.set_result(result)
