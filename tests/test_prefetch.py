"""The read-ahead thread keeps order, hands the producer's error to the caller and stops with it."""

from __future__ import annotations

import pyarrow as pa
import pytest

from fcr.prefetch import prefetched


def test_prefetched_batches_arrive_in_order_and_the_readers_error_reaches_the_caller():

    def batches():
        yield from (pa.table({"n": [i]}) for i in range(5))
        raise ValueError("f.csv: line 7: broken")

    seen = []
    with pytest.raises(ValueError, match="line 7"):
        for batch in prefetched(batches()):
            seen.append(batch["n"][0].as_py())
    assert seen == [0, 1, 2, 3, 4]


def test_a_caller_that_stops_reading_early_does_not_leave_the_reader_waiting():

    produced = []

    def batches():
        for i in range(1000):
            produced.append(i)
            yield pa.table({"n": [i]})

    for batch in prefetched(batches()):
        if batch["n"][0].as_py() == 2:
            break
    assert len(produced) < 10  # it read at most a batch or two ahead, then stopped
