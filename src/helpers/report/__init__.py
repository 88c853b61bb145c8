"""Report: estimates in, page sections out.

Takes the frames of :mod:`helpers.stats` and hands on what a notebook shows:
sentences, labelled tables and charts for the account report
(:mod:`.account`), the portfolio page (:mod:`.portfolio`) and the drivers page
(:mod:`.drivers`), with comments scrubbed (:mod:`.comments`).
"""
