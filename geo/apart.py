"""Run a generator in a Python process of its own, and read what it yields as it yields it.

A large import checks its file in a second process while the first writes the
store, so that the two take two processors. The second process is a fresh
interpreter (``python -P -m geo.apart``), not a fork: the caller may hold threads
and open files, and a script that calls the library without a
``__main__`` guard is not run again. What passes between them is pickled; it
never leaves the machine, and only this module's own processes write it.
"""

from __future__ import annotations

import gc
import os
import pickle
import signal
import struct
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any, BinaryIO

from geo.errors import WorkerStoppedError

__all__ = ["results"]

#: A frame: its kind (one byte) and the length of its pickle, then the pickle.
_HEAD = struct.Struct("<BQ")
_ITEM, _END, _ERROR = 1, 2, 3


def results(function: Callable[..., Iterator[Any]], *args: Any) -> Iterator[Any]:
    """Yield what ``function(*args)`` yields, run in a Python process of its own.

    ``function`` must be importable by its module and name, and its arguments
    picklable; it runs without the cycle collector, so it must not make garbage
    in cycles as it goes. An exception it raises is raised here, after the items
    before it. The other process ends when this iterator does, whatever happened
    (read to its end, closed early, or an error raised while reading).

    Raises
    ------
    WorkerStoppedError
        If the other process ended before its generator did (killed, out of memory).
    """
    reading, writing = os.pipe()
    package_root = str(Path(__file__).resolve().parent.parent)
    path = os.environ.get("PYTHONPATH")
    env = {**os.environ, "PYTHONPATH": package_root + (os.pathsep + path if path else "")}
    try:
        process = subprocess.Popen(
            # -P: the working folder is not searched first (a folder named geo there would
            # shadow the package); the package's own root comes first on PYTHONPATH.
            [sys.executable, "-P", "-m", "geo.apart", str(writing)],
            stdin=subprocess.PIPE,
            pass_fds=(writing,),
            env=env,
        )
    finally:
        os.close(writing)
    try:
        with os.fdopen(reading, "rb") as frames:
            assert process.stdin is not None
            with process.stdin as job:
                pickle.dump((function, args), job, pickle.HIGHEST_PROTOCOL)
            while True:
                kind, data = _read(frames)
                if kind == _ITEM:
                    yield pickle.loads(data)
                elif kind == _END:
                    return
                elif kind == _ERROR:
                    raise pickle.loads(data)
                else:
                    code = process.wait()
                    raise WorkerStoppedError(
                        f"the process that did part of the work ended with code {code} before "
                        "it finished; nothing was written. Fix: run the command again; if it "
                        "stops again, see whether the machine ran out of memory"
                    )
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


def _read(frames: BinaryIO) -> tuple[int, bytes]:
    """Read one frame; kind 0 if the other process ended before writing it whole."""
    head = frames.read(_HEAD.size)
    if len(head) < _HEAD.size:
        return 0, b""
    kind, length = _HEAD.unpack(head)
    data = frames.read(length)
    return (kind, data) if len(data) == length else (0, b"")


def _write(frames: BinaryIO, kind: int, value: object) -> None:
    data = pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
    frames.write(_HEAD.pack(kind, len(data)))
    frames.write(data)
    frames.flush()


def _main(descriptor: int) -> None:
    """Run the generator the parent sends on standard input; write its items to ``descriptor``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C: the parent stops, and ends this one
    function, args = pickle.load(sys.stdin.buffer)
    # Without the cycle collector: a generator run here makes no garbage in cycles as it goes
    # (tests/test_import_speed.py checks the import's), and the collector's passes over the
    # records held (a batch at a time) took a quarter of the check of 1,000,000 rows.
    gc.disable()
    # Each frame is flushed whole: none is left for the exit, where a parent that has ended
    # (killed, or stopped reading) would make the flush fail aloud.
    with suppress(BrokenPipeError), os.fdopen(descriptor, "wb") as frames:
        try:
            for item in function(*args):
                _write(frames, _ITEM, item)
            _write(frames, _END, None)
        except BrokenPipeError:
            raise  # the parent has ended: nobody is waiting
        except Exception as err:  # raised in the parent, where the items are read
            try:
                _write(frames, _ERROR, err)
            except BrokenPipeError:
                raise
            except Exception:  # an error that cannot be pickled is sent by its words
                stopped = WorkerStoppedError(f"{type(err).__name__}: {err}")
                _write(frames, _ERROR, stopped)


if __name__ == "__main__":
    _main(int(sys.argv[1]))
