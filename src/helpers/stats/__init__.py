"""Statistics: tidy frames in, one row per estimate out.

Takes the frames of :mod:`helpers.data` and hands on estimates with ``n``,
interval and ``p_val``: scores and NPS (:mod:`.scores`), client–team gaps
(:mod:`.gaps`), the account against the portfolio (:mod:`.benchmark`,
:mod:`.comparisons`), models of NPS and retention (:mod:`.tables`,
:mod:`.nps_models`, :mod:`.retention`, :mod:`.validation`), key drivers,
congruence, measurement and diagnostics.  Nothing here draws or formats.
"""
