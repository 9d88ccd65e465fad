"""The season: classes by performance index, championship points, standings, trophies.

Pure functions over official results (no I/O, no clock): the storage and pages feed them
the results rows of each counted session and the stewards' "On the Move" awards.
"""
