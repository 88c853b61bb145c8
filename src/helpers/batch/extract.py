"""One account's extract of the store, for a report rendered on a machine without the store.

Takes the store, a wave and an account id on the machine that runs the batch;
hands on, per account report, a few small frames (:func:`account_extract`),
which the worker that renders the report writes into a store file of its own
(:func:`write_extract`) and passes to the notebook as its ``store``.

An extract holds the account's own rows and nothing of any other account's
answers: its accounts row, its current responses and their item answers in
the waves up to the report's.  What the page needs from the whole portfolio
comes precomputed, as the full store would give it:

* the order of the waves (:func:`helpers.data.store.waves`);
* the account-level aggregates of the benchmark
  (:func:`helpers.stats.benchmark.portfolio_aggregates`) — one row per
  account and measure, the other accounts' ids replaced by row numbers, so
  neither an account nor its rows across measures can be told apart;
* the hashes of the ingested files, for the data hash the methods note shows
  (:func:`helpers.data.store.data_hash`);
* the names of the account owners (the provider's own staff), which every
  comment is scrubbed of.

It also carries the account's follow-up items and their outcomes (without the
owners' notes, which no page reads), and how many items the whole queue holds
(all and of the wave: :func:`helpers.data.followups.queue_counts`), for the
report's follow-up section.

A page rendered from its extract is byte for byte the page rendered from the
full store (``tests/batch/test_cluster.py`` checks it).  A notebook that
reads anything else from the store (another account, the touchpoints, a
staff benchmark) needs the store itself: ``--shared-store``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = [
    "account_extract",
    "portfolio_parts",
    "write_extract",
]


def portfolio_parts(store: str | Path, wave: str) -> dict[str, Any]:
    """What every account's extract of ``wave`` shares, read once per batch from the full store.

    Returns
    -------
    dict
        ``waves`` (list, oldest first), ``ingests`` (file hashes), ``queue``
        (the follow-up queue's counts), ``owners``
        (names), ``aggregates`` (setting → :func:`portfolio_aggregates` frame
        with the real account ids; :func:`account_extract` replaces them).
    """
    from helpers.data import store as st
    from helpers.data.followups import queue_counts
    from helpers.data.instrument import load_instrument
    from helpers.report.account.load import CI
    from helpers.stats import benchmark as bm

    inst = load_instrument()
    setting = bm.aggregates_setting(wave, side="client", instrument=inst, min_items=inst.min_items, ci=CI)
    with st.connect(store) as con:
        ingests = con.execute("SELECT file_sha256 FROM ingests").df()
        owners = con.execute("SELECT DISTINCT owner FROM accounts WHERE owner IS NOT NULL").df()
    n, n_wave = queue_counts(wave, store=store)
    return {"waves": st.waves(store=store), "ingests": ingests, "owners": owners,
            "queue": pd.DataFrame({"wave": [wave], "n": [n], "n_wave": [n_wave]}),
            "aggregates": {setting: bm.portfolio_aggregates(wave, store=store, side="client", instrument=inst,
                                                            ci=CI)}}


def account_extract(parts: Mapping[str, Any], account_id: str, *, store: str | Path,
                    waves: Sequence[str]) -> dict[str, Any]:
    """One account's extract: its own rows in ``waves`` and the shared ``parts``, other accounts made anonymous.

    Parameters
    ----------
    parts : mapping
        From :func:`portfolio_parts`.
    account_id : str
    store : path
        The full store.
    waves : sequence of str
        The waves the report reads (up to its own).

    Returns
    -------
    dict
        Frames ``accounts``, ``responses``, ``answers``, ``followup_items``,
        ``followup_outcomes``, ``ingests``,
        ``owners``, ``aggregates`` (with a ``setting`` column) and the lists
        ``settings`` and ``waves``: what :func:`write_extract` writes.
    """
    from helpers.data import store as st

    marks = ", ".join("?" for _ in waves)
    with st.connect(store) as con:
        accounts = con.execute("SELECT * FROM accounts WHERE account_id = ?", [account_id]).df()
        responses = con.execute(f"SELECT * FROM responses WHERE account_id = ? AND superseded_by IS NULL "
                                f"AND wave IN ({marks}) ORDER BY wave, side, response_id",
                                [account_id, *waves]).df()
        answers = con.execute(f"SELECT a.* FROM answers a JOIN responses r USING (response_id) "
                              f"WHERE r.account_id = ? AND r.superseded_by IS NULL AND r.wave IN ({marks}) "
                              "ORDER BY a.response_id, a.item", [account_id, *waves]).df()
        items = con.execute("SELECT * FROM followup_items WHERE account_id = ? ORDER BY item_id",
                            [account_id]).df()
        outcomes = con.execute("SELECT o.* REPLACE (NULL AS note) FROM followup_outcomes o "
                               "JOIN followup_items i USING (item_id) WHERE i.account_id = ? "
                               "ORDER BY o.item_id, o.outcome_at_utc, o.ingested_at", [account_id]).df()
    aggregates = pd.concat([_anonymous(agg, account_id).assign(setting=setting)
                            for setting, agg in parts["aggregates"].items()], ignore_index=True)
    return {"accounts": accounts, "responses": responses, "answers": answers, "followup_items": items,
            "followup_outcomes": outcomes, "ingests": parts["ingests"], "queue": parts["queue"],
            "owners": parts["owners"], "aggregates": aggregates, "settings": list(parts["aggregates"]),
            "waves": list(parts["waves"])}


def _anonymous(agg: pd.DataFrame, account_id: str) -> pd.DataFrame:
    """The aggregates with every other account's id replaced by a row number, the account's own rows first.

    The others are numbered after sorting by measure and value, row by row,
    so that the numbers say nothing of the ids and one account's rows of
    different measures cannot be linked.  The benchmark needs only which
    row is the account's own.
    """
    own = agg["account_id"].astype(str) == str(account_id)
    others = agg[~own].sort_values(["measure", "value", "n"], kind="stable").reset_index(drop=True)
    others["account_id"] = [f"~{i + 1}" for i in range(len(others))]
    return pd.concat([agg[own], others], ignore_index=True).assign(position=lambda d: range(len(d)))


def write_extract(extract: Mapping[str, Any], path: str | Path) -> Path:
    """Write an extract (from :func:`account_extract`) as a store file at ``path``; the path.

    The file has the store's schema, so every loader reads it as a store.
    ``accounts`` is a view: the account's row, and the owner names without
    any account (for the scrubbing of comments).
    """
    import duckdb

    from helpers.data.store import SCHEMA

    path = Path(path)
    con = duckdb.connect(str(path), config={"threads": 1})
    try:
        con.execute(SCHEMA)
        con.execute("ALTER TABLE accounts RENAME TO extract_account")
        for table, frame in (("extract_account", "accounts"), ("responses", "responses"), ("answers", "answers"),
                             ("followup_items", "followup_items"), ("followup_outcomes", "followup_outcomes"),
                             ("ingests", "ingests")):
            con.register("frame", extract[frame])
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM frame")
            con.unregister("frame")
        for table in ("owners", "aggregates", "queue"):
            con.register("frame", extract[table])
            con.execute(f"CREATE TABLE extract_{table} AS SELECT * FROM frame")
            con.unregister("frame")
        con.execute("CREATE TABLE extract_settings (setting VARCHAR)")
        con.executemany("INSERT INTO extract_settings VALUES (?)", [[s] for s in extract["settings"]])
        con.execute("CREATE VIEW accounts AS SELECT * FROM extract_account "
                    "UNION ALL BY NAME SELECT owner FROM extract_owners")
        con.execute("CREATE TABLE extract_waves (position INTEGER, wave VARCHAR)")
        con.executemany("INSERT INTO extract_waves VALUES (?, ?)", list(enumerate(extract["waves"])))
    finally:
        con.close()
    return path
