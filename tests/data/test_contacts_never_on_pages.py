"""The report pages' data loaders never read the contacts table (every SQL statement they send is recorded)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from helpers.data import store as st

ROOT = Path(__file__).resolve().parents[2]
CONTACTS_SQL = re.compile(r"\b(?:from|join)\s+contacts\b", re.IGNORECASE)


class _Recording:
    """A DuckDB connection that writes down every statement it executes."""

    def __init__(self, con, log: list[str]):
        self._con, self._log = con, log

    def execute(self, sql, *args, **kwargs):
        self._log.append(str(sql))
        return self._con.execute(sql, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._con, name)


@pytest.fixture
def statements(monkeypatch) -> list[str]:
    log: list[str] = []
    real = st._open
    monkeypatch.setattr(st, "_open", lambda *a, **kw: _Recording(real(*a, **kw), log))
    return log


def test_the_account_report_and_the_notebooks_loaders_never_read_contacts(sample_store, statements):
    from helpers.report.account.report_data import account_report_data

    assert st.query("SELECT count(*) AS n FROM contacts", store=sample_store)["n"].iloc[0] > 0
    statements.clear()
    account = st.query("SELECT account_id FROM contacts GROUP BY 1 ORDER BY count(*) DESC LIMIT 1",
                       store=sample_store)["account_id"].iloc[0]
    statements.clear()
    data = account_report_data(account, "2026Q3", store=sample_store)
    # what the portfolio, drivers and explore notebooks load (their cells call these)
    st.load_accounts(store=sample_store)
    st.load_responses(store=sample_store)
    st.load_answers(wave="2026Q3", store=sample_store)
    st.load_touchpoints(account=account, store=sample_store)
    st.load_quarantine(store=sample_store)
    st.waves(store=sample_store)
    st.data_hash(store=sample_store)
    from helpers.data.followups import load_loop

    load_loop(store=sample_store)  # the loop's numbers for the pages, later
    assert statements, "the recorder saw nothing"
    assert not [s for s in statements if CONTACTS_SQL.search(s)]
    contacts = st.query("SELECT email, phone FROM contacts WHERE account_id = ?", [account], store=sample_store)
    shown = repr(data)
    for value in contacts.stack().dropna():
        assert str(value) not in shown


def test_no_page_module_or_notebook_names_the_contacts_table():
    sources = [*(ROOT / "src" / "helpers" / "report").rglob("*.py"), *(ROOT / "src" / "helpers" / "batch").rglob("*.py"),
               *(ROOT / "src" / "helpers" / "stats").rglob("*.py"), *(ROOT / "notebooks").glob("*.ipynb")]
    assert len(sources) > 20
    for path in sources:
        text = path.read_text(encoding="utf-8")
        assert not CONTACTS_SQL.search(text), path
        assert "load_contacts" not in text and "helpers.data.contacts" not in text, path
