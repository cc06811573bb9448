"""pycares_ng.backends: adapters that plug a Channel into an event loop.

The driver interface, the entry-point registry (group ``pycares_ng.backends``) and the select,
threads, asyncio, gevent and tornado backends live in this package; see docs/ for the ones
shipped in this version. Until then a Channel is driven directly: ``event_thread=True``, or
``sock_state_cb`` + ``process_fd`` + ``timeout()`` from any loop.
"""

__all__: list = []
