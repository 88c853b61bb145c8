"""Follow-up: every detractor and every "please contact me" reaches an owner.

Takes the store (client answers, touchpoints, consented contacts, the accounts'
owners) and hands on the follow-up queue: items with stable ids and due times
in the store (:mod:`.queue`, due times by :mod:`.sla`), and one workbook per
owner plus an HTML list on disk (:mod:`.files`); :mod:`.run` is the daily
command's one call.  What owners record comes back through ``flamekit ingest
--kind followups`` (:mod:`helpers.data.followups`); what the loop achieved is
:mod:`helpers.stats.loop`.
"""

from .run import FollowupResult, rewrite_files, run_followup
from .sla import FollowupError

__all__ = ["FollowupError", "FollowupResult", "rewrite_files", "run_followup"]
