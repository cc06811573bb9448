"""What the aiodns children (aiodns3_child.py: aiodns 3.6.1 on pycares 4.11 / pycares_ng;
aiodns4_child.py: aiodns 4.0.4 on pycares 5.2.1 / pycares_ng.v5) share. A child imports it first,
before its warnings filter is set: it imports no more than json, sys, typing and warnings at that point
(asyncio when a coroutine here runs).
"""
from __future__ import annotations

import json
import sys
import warnings
from typing import Any, Awaitable, Callable, Dict

#: a child's outcome_of(future, timeout): what awaiting an aiodns future gives, as JSON
OutcomeOf = Callable[[Any, float], Awaitable[Dict[str, Any]]]


def read_spec() -> Dict[str, Any]:
    """The child's JSON spec from stdin. In the pycares_ng child warnings are errors from here on,
    before its first import (the oracle child turns them on after its imports: see its setup())."""
    spec: Dict[str, Any] = json.loads(sys.stdin.read())
    if spec["lib"] == "ng":
        warnings.simplefilter("error")
    return spec


async def gather_outcomes(outcome_of: OutcomeOf, futures: Dict[str, Any], timeout: float) -> Dict[str, Any]:
    """label -> outcome of each future, awaited side by side."""
    import asyncio
    results = await asyncio.gather(*(outcome_of(f, timeout) for f in futures.values()))
    return dict(zip(futures, results))


async def close_from_callback(outcome_of: OutcomeOf, resolver: Any, futures: Dict[str, Any],
                              first: Any) -> Dict[str, Any]:
    """The resolver closed from a done-callback of its future `first` while `futures` are pending."""
    import asyncio
    out: Dict[str, Any] = {}
    closed = asyncio.Event()

    def on_done(_f: Any) -> None:
        resolver._cleanup()  # what `await resolver.close()` does, synchronously
        closed.set()

    first.add_done_callback(on_done)
    out["first"] = await outcome_of(first, 4.0)
    await asyncio.wait_for(closed.wait(), 4.0)
    out["outcomes"] = await gather_outcomes(outcome_of, futures, 4.0)
    return out
