"""SnapStart (``otp.snapStart``): what must differ between environments restored from one snapshot.

With SnapStart, Lambda initialises a published version once, snapshots the memory of that environment
and resumes every new environment from the snapshot. Whatever the initialisation drew at random is then
the same in all of them. ``secrets``, ``uuid.uuid4`` and ``os.urandom`` read the kernel each time and are
safe; the ``random`` module keeps its state in memory and is not: the adapters' retry jitter and
botocore's would make the same choices in every restored environment, retries in lockstep. The runtime
runs the hooks registered with ``snapshot_restore_py`` (part of Lambda's Python runtimes) after each
restore; this reseeds ``random`` from the kernel there.
"""

from __future__ import annotations

import logging
import os
import random
from typing import Final

#: Lambda sets AWS_LAMBDA_INITIALIZATION_TYPE to this when initialising a version for a SnapStart snapshot.
SNAP_START: Final = "snap-start"

_registered = False


def reseed() -> None:
    """Draw a fresh seed for ``random`` from the kernel (``random.seed()`` without an argument)."""
    random.seed()


def register_hooks() -> bool:
    """Register :func:`reseed` to run after every restore; True when registered (idempotent).

    Outside a SnapStart initialisation there is no snapshot and nothing is registered.
    """
    global _registered
    if _registered:
        return True
    if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") != SNAP_START:
        return False
    try:
        from snapshot_restore_py import register_after_restore
    except ImportError:  # every Lambda Python runtime with SnapStart ships it; say so if one does not
        logging.getLogger(__name__).warning("snapshot_restore_py is missing: random is not reseeded")
        return False
    register_after_restore(reseed)
    _registered = True
    return True
