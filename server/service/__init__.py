"""The race service and its inputs: the single writer (journal first, then the engine, then one
render for everyone), decoder ingest, decoder clocks, the durable journal and its outage spool,
the hub that fans renders out, and the RMonitor feed for scoreboards.

Imports ``server.engine``, ``server.db`` and ``timing_adapters``; never the web pages or the CLI.
"""
