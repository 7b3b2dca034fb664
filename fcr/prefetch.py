"""Overlap making the next item of a stream with using the current one, on a second core."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")


def prefetched(items: Iterator[T], ahead: int = 1) -> Iterator[T]:
    """The same items, the next one made in a thread while the caller works on this one.

    Reading a file (pyarrow) or a query's result (DuckDB) releases the GIL, so on two cores the
    next batch is read while the caller stores or checks the current one; at most `ahead` items
    wait in memory.
    """
    waiting: queue.Queue = queue.Queue(maxsize=ahead)
    done = object()
    stop = threading.Event()

    def hand_over(item: object) -> bool:
        """Put item in the queue unless the caller has stopped reading; whether it was put."""
        while not stop.is_set():
            try:
                waiting.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not hand_over(item):
                    return
            hand_over(done)
        except BaseException as exc:  # handed to the caller, who raises it where it reads
            hand_over(exc)

    reader = threading.Thread(target=produce, name="fcr-read-ahead", daemon=True)
    reader.start()
    try:
        while (item := waiting.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        reader.join()
