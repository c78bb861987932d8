"""The cycle collector during a container's start-up: imported first by ``otp.handlers``.

The entry points import boto3, Powertools and phonenumbers: ~49,000 objects the collector tracks (API
function), nearly all of which live as long as the container. With CPython's default thresholds the
cycle collector runs again and again while they load, walking the growing heap, a full collection among
them. A high young-generation threshold until the entry point's module is ready, then ``gc.freeze()``
(which moves what init built out of every later collection), saved ~20 ms of a ~350 ms cold start when
pydantic was still imported, and makes later full collections cheaper. Nothing is kept alive that
would otherwise be freed: objects without cycles are freed by reference counting whatever the
collector does, and init creates few cycles.

The threshold is above what any entry point allocates before ``done()`` (one young collection fell
inside every function's start-up at 50,000: 10 to 26 ms of walking ~50,000 young objects to free ~600,
on the 2-core benchmark machine; -19 M instructions, ~1.8 % of each function's cold start, measured
with callgrind), so init runs no collection at all. The price: the few hundred objects of cyclic
garbage init leaves are frozen with the rest and never freed, and the memory that collection freed is
not reused during init: peak RSS +0.3 MiB (API 37.4 -> 37.6 MiB, CreateAuthChallenge 39.3 -> 39.6 MiB).
"""

from __future__ import annotations

import gc

_STARTUP_THRESHOLD = 200_000
_defaults = gc.get_threshold()


def begin() -> None:
    gc.set_threshold(_STARTUP_THRESHOLD, *_defaults[1:])


def done() -> None:
    """Called at the end of an entry point module: freeze what init built, restore the defaults."""
    gc.freeze()
    gc.set_threshold(*_defaults)
