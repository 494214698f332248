"""io/pose's fd-2 mute under concurrency: the orientation probe and the main graphs' set-up run on two threads,
and fd 2 is process-wide, so the mute must not leave stderr pointing at /dev/null (errors would vanish)."""
from __future__ import annotations

import os
import threading

from formcheck.io.pose import quiet_native_stderr


def _fd2() -> tuple[int, int]:
    st = os.fstat(2)
    return st.st_dev, st.st_ino


def test_overlapping_mutes_restore_stderr_in_any_order():
    before = _fd2()
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()

    def a():   # enters first, leaves first
        with quiet_native_stderr():
            a_in.set()
            b_in.wait(5)
        a_out.set()

    def b():   # enters while A holds the mute, leaves after A
        a_in.wait(5)
        with quiet_native_stderr():
            b_in.set()
            a_out.wait(5)
            assert _fd2() == _fd2_devnull()   # still muted while B is inside

    ta, tb = threading.Thread(target=a), threading.Thread(target=b)
    ta.start(), tb.start()
    ta.join(10), tb.join(10)
    assert _fd2() == before


def _fd2_devnull() -> tuple[int, int]:
    st = os.stat(os.devnull)
    return st.st_dev, st.st_ino
