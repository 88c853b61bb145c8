"""Data: survey exports in, tidy frames out.

Takes CSV/XLSX exports and the instrument; ingests them into one DuckDB store
(:mod:`.readers` → :mod:`.validation` → :mod:`.ingest` → :mod:`.store`) and hands
on tidy frames (one row per response, answer, account or touchpoint).
:mod:`.privacy` holds the disclosure rules applied to data before anything is
shown; :mod:`.sample` writes seeded synthetic exports with planted effects.
"""
