"""The ``racecontrol`` command line and its commands: serve, demo (with its scripted race),
emulate, db upgrade, users, tokens, PINs, and the importers of entries and tracks.

May import everything else; nothing imports it but the tests and ``bench/``.
"""
