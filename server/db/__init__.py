"""Storage: SQLAlchemy 2 (async) models, engine set-up, Alembic migrations, the journal.

Strategy: the package is split by concern and nothing is re-exported here, so importing
one part (say, the models from Alembic's ``env.py``) never drags in the others.
``connection`` builds engines, ``migrate`` owns the schema version, ``journal`` is the
durable input-event log, ``repository`` holds the queries the server needs.
"""
