"""Statistics: tidy frames in, one row per estimate out.

Takes the frames of :mod:`helpers.data` and hands on estimates with ``n``,
interval and ``p_val``: scores and NPS (:mod:`.scores`), client–team gaps
(:mod:`.gaps`), the account against the portfolio (:mod:`.benchmark`,
:mod:`.comparisons`), models of NPS and retention on the tables of
:mod:`.model_data` (:mod:`.nps_models`, :mod:`.retention`, :mod:`.validation`,
with the pieces they share in :mod:`.fitting`), key drivers, congruence,
measurement and diagnostics.  Nothing here draws or formats.
"""
