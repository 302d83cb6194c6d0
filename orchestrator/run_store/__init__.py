"""The run store's rooms: one SQLite database, one class per kind of record.

``orchestrator.store.RunStore`` is all of them over one connection (the public API); each room here
holds the SQL of one kind of record: runs (``runs``), scored candidates (``candidates``), the LLM call
ledger (``calls``) and the event log (``events``), over the connection and transactions of ``database``.
"""
