"""How many times this process has been a forked child: compared by the backends to notice a
fork without a system call per lookup (``os.getpid()`` is one). Its hook is registered before
the C core's, so the number has changed before any channel of the child reports anything."""
import os

count = 0


def _after_in_child() -> None:
    global count
    count += 1


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_in_child)
