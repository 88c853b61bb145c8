"""The per-account report: every section on the sample store, privacy, isolation, errors, and the notebook."""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import duckdb
import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pandas as pd
import papermill as pm
import pytest
from nbconvert.filters import markdown2html

from helpers.data import instrument
from helpers.data import store as st
from helpers.data.instrument import load_instrument
from helpers.data.privacy import IsolationError
from helpers.report.account import band, display, load, report_data, sections, summary, tables
from helpers.report.account import meeting as account_meeting
from helpers.report import comments as cm
from helpers.stats import gaps as gp
from helpers.stats.scores import nps, respondent_scores

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "account_report.ipynb"
DIMS = load_instrument().dimension_ids


@pytest.fixture(scope="module")
def a001(sample_store):
    return report_data.account_report_data("A001", "2026Q3", store=sample_store)


@pytest.fixture(scope="module")
def a001_account(sample_store):
    return load.load_account("A001", "2026Q3", store=sample_store)


@pytest.fixture(scope="module")
def a002(sample_store):
    """A002 in 2026Q3: 31 clients but only 2 team members — the team view must be hidden."""
    return report_data.account_report_data("A002", "2026Q3", store=sample_store, language="fi")


def relabelled_store(sample_store: Path, path: Path, labels: dict[str, str], *deletes: str) -> Path:
    """A copy of the sample store with wave labels renamed (old → new) and some responses deleted (SQL WHERE)."""
    shutil.copy(sample_store, path)
    con = duckdb.connect(str(path))
    for old, new in labels.items():
        con.execute("UPDATE responses SET wave = ? WHERE wave = ?", [new, old])
    for where in deletes:
        con.execute(f"DELETE FROM answers WHERE response_id IN (SELECT response_id FROM responses WHERE {where})")
        con.execute(f"DELETE FROM responses WHERE {where}")
    con.close()
    return path


@pytest.fixture(scope="module")
def no_staff_store(sample_store, tmp_path_factory) -> Path:
    """A copy of the sample store in which nobody from the team answered for A001 in 2026Q3."""
    path = tmp_path_factory.mktemp("nostaff") / "flamekit.duckdb"
    return relabelled_store(sample_store, path, {}, "account_id = 'A001' AND wave = '2026Q3' AND side = 'staff'")


HOSTILE = "2026Q4 <img src=x onerror=alert(7)>"
HOSTILE_PREV = "2026Q2 [x](javascript:alert(8)) <script>alert(9)</script>"


@pytest.fixture(scope="module")
def hostile_store(sample_store, tmp_path_factory) -> Path:
    """Wave labels carrying markup; nobody from A001's team and none of A002's clients answered in the last wave."""
    path = tmp_path_factory.mktemp("hostile") / "flamekit.duckdb"
    now = HOSTILE.replace("'", "''")
    return relabelled_store(sample_store, path, {"2026Q3": HOSTILE, "2026Q2": HOSTILE_PREV},
                            f"account_id = 'A001' AND wave = '{now}' AND side = 'staff'",
                            f"account_id = 'A002' AND wave = '{now}' AND side = 'client'")


@pytest.fixture(scope="module")
def numbered_store(sample_store, tmp_path_factory) -> Path:
    """Wave labels whose text order is not their time order: 'Syksy 2025' (autumn) … 'W9', 'W10'."""
    path = tmp_path_factory.mktemp("numbered") / "flamekit.duckdb"
    return relabelled_store(sample_store, path, {"2025Q4": "Syksy 2025", "2026Q1": "Kevät 2026", "2026Q2": "W9",
                                                 "2026Q3": "W10"})


def frames(obj):
    """Every DataFrame in a nested report dict."""
    if isinstance(obj, pd.DataFrame):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from frames(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from frames(v)


def as_text(obj) -> str:
    """Everything in a report dict as one string (frames in full)."""
    parts = []
    def walk(o):
        if isinstance(o, pd.DataFrame):
            parts.append(o.to_csv())
        elif isinstance(o, dict):
            for k, v in o.items():
                parts.append(str(k))
                walk(v)
        elif isinstance(o, (list, tuple)):
            for v in o:
                walk(v)
        else:
            parts.append(str(o))
    walk(obj)
    return "\n".join(parts)


# --- sections on the sample store -----------------------------------------------------
def test_report_has_every_section(a001):
    assert {"headline", "view_360", "client_groups", "gaps", "trend", "benchmark", "comments", "detractors",
            "next_meeting", "notes", "methods"} <= set(a001)
    head = a001["headline"]
    assert (head["account_id"], head["wave"], head["n_client"], head["n_staff"]) == ("A001", "2026Q3", 10, 15)
    assert len(a001["view_360"]) == 10 and len(a001["gaps"]) == 5
    assert set(a001["trend"]["dimensions"]["wave"]) == {"2025Q4", "2026Q1", "2026Q2", "2026Q3"}
    assert set(a001["benchmark"]["measure"]) == {*DIMS, "nps"}


def test_headline_numbers_match_an_independent_calculation(a001, sample_store):
    resp = st.load_responses(account="A001", side="client", store=sample_store)
    now = nps(resp[resp["wave"] == "2026Q3"], by=None).iloc[0]
    head = a001["headline"]
    assert head["nps"] == pytest.approx(now["nps"])
    assert (head["nps_ci_low"], head["nps_ci_high"]) == pytest.approx((now["ci_low"], now["ci_high"]))
    assert head["previous_wave"] == "2026Q2"
    # 2026Q2 had four client answers: its NPS is not published, so no change is computed against it
    assert (resp["wave"] == "2026Q2").sum() == 4 and math.isnan(head["nps_change"])
    # A002: both waves published, the change is the difference of the two raw NPS values
    a002 = report_data.account_report_data("A002", "2026Q3", store=sample_store)["headline"]
    resp = st.load_responses(account="A002", side="client", store=sample_store)
    now, before = (nps(resp[resp["wave"] == w], by=None).iloc[0]["nps"] for w in ("2026Q3", "2026Q2"))
    assert a002["nps_change"] == pytest.approx(now - before)
    assert a002["change_ci_low"] < a002["nps_change"] < a002["change_ci_high"]


def test_headline_sentence_never_over_claims(a001, a002, sample_store):
    # A001: the +100 of 2026Q2 came from four answers, too few for a figure: no change is claimed against it
    h = a001["headline"]
    assert not h["change_clear"] and "2026Q2" not in h["summary"] and "+100" not in h["summary"]
    assert "no clear gap" in h["summary"]  # no gap passes the rule in A001
    # A013: five clients in 2026Q3, four fewer than the nine of 2026Q1 (the same people but four): showing
    # both NPS figures would give away those four clients' answers, so 2026Q3's NPS is not published
    h13 = report_data.account_report_data("A013", "2026Q3", store=sample_store)["headline"]
    assert math.isnan(h13["nps"]) and math.isnan(h13["nps_change"])
    assert h13["summary"].startswith("Client NPS is not shown: beside an earlier wave's published figure")
    # A002: the change's CI includes 0 → "no clear change" (in Finnish); the team view is hidden
    h2 = a002["headline"]
    assert h2["change_ci_low"] < 0 < h2["change_ci_high"] and not h2["change_clear"]
    assert "ei selvää muutosta" in h2["summary"] and "tiimin näkemys on piilotettu" in h2["summary"]
    assert h2["summary"].startswith("Asiakkaiden NPS on +65")


def test_view_and_gaps_agree_with_helpers(a001, sample_store):
    sc = respondent_scores(st.load_answers(account="A001", wave="2026Q3", store=sample_store))
    expected = gp.perception_gaps(sc)
    pd.testing.assert_frame_equal(a001["gaps"], expected)
    view = a001["view_360"].set_index(["side", "dimension"])
    g = expected.set_index("dimension")
    for d in DIMS:
        assert view.loc[("client", d), "mean"] == pytest.approx(g.loc[d, "client_mean"])
        assert view.loc[("staff", d), "mean"] == pytest.approx(g.loc[d, "staff_mean"])
    assert view["rwg"].between(0, 1).all()


def test_next_meeting_names_only_dimensions_that_stand_out(a001):
    """A001: client means 3.42 … 4.43 around a median of 3.97; only Care is half a point below it."""
    nm = a001["next_meeting"]
    g = a001["gaps"].set_index("dimension")
    median = g["client_mean"].median()
    assert nm["status"] == "ranked" and nm["median"] == pytest.approx(median) and nm["margin"] == 0.5
    assert nm["focus"]["dimension"].tolist() == ["care"]
    assert g.loc["care", "client_mean"] <= median - 0.5
    assert nm["strengths"].empty  # Professionalism is 0.47 above the median: not a clear separation
    assert nm["focus"]["reason"].iloc[0] == ("Client mean 3.42 (n = 10), 0.55 points below the account's median "
                                             "dimension (3.97).")
    md = display.next_meeting_markdown(nm).data
    assert "Focus areas" in md and "Strengths" not in md


def gaps_frame(means, *, labels=None, gaps=None, n_client=10) -> pd.DataFrame:
    """A hand-made gaps_section frame: one row per dimension in instrument order."""
    k = len(DIMS)
    return pd.DataFrame({"dimension": DIMS, "client_mean": means, "n_client": n_client, "n_staff": 10,
                         "gap": gaps if gaps is not None else [0.0] * k,
                         "label": labels if labels is not None else [gp.ALIGNED_WEAK] * k,
                         "evidence": gp.CLEAR, "suppressed": False})


def test_next_meeting_treats_ties_together(a001_account):
    # Excitement and Dare tie for the lowest mean: asked for one focus area, both come (or neither could)
    nm = account_meeting.next_meeting(a001_account, gaps=gaps_frame([3.0, 3.0, 4.0, 4.2, 4.1]), n_focus=1)
    assert nm["focus"]["dimension"].tolist() == ["excitement", "dare"]
    assert nm["focus"]["reason"].str.contains("Tied with").all()
    # a tie that would name every dimension but one plus one more is left out instead
    four = account_meeting.next_meeting(a001_account, gaps=gaps_frame([2.0, 4.5, 4.5, 4.5, 4.5]))
    assert four["focus"]["dimension"].tolist() == ["excitement"] and four["strengths"].empty


def test_next_meeting_never_labels_every_dimension(a001_account):
    labels = [gp.BLIND_SPOT] * 3 + [gp.HIDDEN_STRENGTH] * 2
    nm = account_meeting.next_meeting(a001_account, gaps=gaps_frame([3.5] * 5, labels=labels, gaps=[-1.5, -1.2, -1.0, 1.0, 1.2]))
    assert nm["focus"]["dimension"].tolist() == ["excitement", "dare", "professionalism"]
    assert nm["strengths"]["dimension"].tolist() == ["care"]  # 3 + 1 = all five dimensions but one
    every = account_meeting.next_meeting(a001_account, gaps=gaps_frame([3.5] * 5, labels=[gp.BLIND_SPOT] * 5,
                                                          gaps=[-1.5, -1.4, -1.3, -1.2, -1.1]), n_focus=5)
    assert len(every["focus"]) == 4 and every["strengths"].empty
    flat = account_meeting.next_meeting(a001_account, gaps=gaps_frame([3.5, 3.6, 3.7, 3.8, 3.9]))
    assert flat["status"] == "none_stand_out" and flat["focus"].empty and flat["strengths"].empty
    assert display.next_meeting_markdown(flat).data.startswith("No dimension stands out")


def test_next_meeting_does_not_rank_a_tie_or_three_answers(sample_store):
    """A003 in 2026Q3: three clients; Dare and Professionalism tie at 3.28, the median."""
    for language, words in (("en", "Too few answers to rank"), ("fi", "Liian vähän vastauksia")):
        data = report_data.account_report_data("A003", "2026Q3", store=sample_store, language=language)
        nm = data["next_meeting"]
        assert nm["status"] == "too_few" and nm["focus"].empty and nm["strengths"].empty
        assert nm["note"].startswith(words) and display.next_meeting_markdown(nm, language=language).data == nm["note"]
    loose = report_data.account_report_data("A003", "2026Q3", store=sample_store, min_group_size=3,
                                            min_client_group_size=3, min_reliable_n=3)
    means = loose["gaps"].set_index("dimension")["client_mean"]
    assert means["dare"] == pytest.approx(means["professionalism"])
    nm = loose["next_meeting"]
    named = {*nm["focus"]["dimension"], *nm["strengths"]["dimension"]}
    assert not {"dare", "professionalism"} & named  # the tie is the median: neither lowest nor highest
    assert nm["status"] == "none_stand_out"


def test_a_clear_blind_spot_leads_the_focus_areas(sample_store):
    data = report_data.account_report_data("A036", "2026Q3", store=sample_store)  # planted Care blind spot
    care = data["gaps"].set_index("dimension").loc["care"]
    assert care["label"] == gp.BLIND_SPOT and care["evidence"] == gp.CLEAR
    assert data["next_meeting"]["focus"]["dimension"].iloc[0] == "care"
    assert data["next_meeting"]["focus"]["reason"].iloc[0].startswith("Blind spot")
    assert "the clearest blind spot is Care" in data["headline"]["summary"]


def test_methods_note(a001, sample_store):
    m = a001["methods"]
    assert m["data_hash"] == st.data_hash(store=sample_store)
    assert {"pandas", "numpy", "scipy", "statsmodels", "matplotlib", "python"} <= set(m["versions"])
    for ref in ("Welch 1947", "Hedges & Olkin 1985", "Benjamini–Hochberg (1995)", "Rocks 2016", m["data_hash"]):
        assert ref in m["text"]
    assert m["thresholds"]["min_group_size"] == 5 and m["thresholds"]["min_comment_group_size"] == 10


def test_methods_note_words_fill_every_value_in_both_languages(a002):
    from string import Formatter

    from helpers.report.account import texts

    fields = {lang: {f for item in items for _, f, _, _ in Formatter().parse(item) if f}
              for lang, items in texts.METHODS.items()}
    assert fields["en"] == fields["fi"]
    assert len(texts.METHODS["en"]) == len(texts.METHODS["fi"])
    text = a002["methods"]["text"]  # Finnish
    assert "{" not in text and "q = 0,05" in text and "±0,50" in text
    assert text.count("\n- ") == len(texts.METHODS["fi"]) - 1


# --- isolation --------------------------------------------------------------------------
def test_report_contains_nothing_of_another_account(a001, sample_store):
    for f in frames(a001):
        if "account_id" in f:
            assert set(f["account_id"]) <= {"A001"}
        assert not {"response_id", "respondent_id"} & set(f.columns)
    text = as_text(a001)
    assert set(re.findall(r"\bA\d{3}\b", text)) == {"A001"}
    names = st.load_accounts(store=sample_store).set_index("account_id")["name"]
    for acc, name in names.items():
        if acc != "A001" and name not in names["A001"]:
            assert name not in text, acc


def test_isolation_check_catches_a_foreign_row(monkeypatch, sample_store):
    real = sections.benchmark_section

    def leaky(account):
        out = real(account)
        return pd.concat([out, out.assign(account_id="A002")])

    monkeypatch.setattr(report_data, "benchmark_section", leaky)
    with pytest.raises(IsolationError):
        report_data.account_report_data("A001", "2026Q3", store=sample_store)


def test_only_this_accounts_rows_are_loaded(monkeypatch, sample_store):
    calls = []
    for name in ("load_answers", "load_responses"):
        real = getattr(st, name)

        def spy(*args, _real=real, _name=name, **kwargs):
            calls.append((_name, kwargs.get("account")))
            return _real(*args, **kwargs)

        monkeypatch.setattr(st, name, spy)
    monkeypatch.setattr(st, "load_accounts", lambda **k: pytest.fail("all accounts loaded"))
    report_data.account_report_data("A001", "2026Q3", store=sample_store)
    assert calls and all(account == "A001" for _, account in calls)


# --- privacy ----------------------------------------------------------------------------
def test_small_team_is_blanked_everywhere(a002, sample_store):
    assert a002["headline"]["n_staff"] == 2 and a002["headline"]["staff_suppressed"]
    view = a002["view_360"]
    staff = view[view["side"] == "staff"]
    assert staff["suppressed"].all() and (staff["n"] == 2).all()
    assert staff[["mean", "sd", "se", "ci_low", "ci_high", "rwg"]].isna().all().all()
    g = a002["gaps"]
    assert g["suppressed"].all() and g["label"].isna().all() and (g["evidence"] == gp.SUPPRESSED).all()
    assert g[["staff_mean", "gap", "ci_low", "ci_high", "p_val", "p_fdr", "effect_size"]].isna().all().all()
    tr = a002["trend"]["dimensions"]
    hidden = tr[(tr["side"] == "staff") & (tr["wave"] == "2026Q3")]
    assert len(hidden) == 5 and hidden["mean"].isna().all() and hidden["suppressed"].all()
    shown = tr[(tr["side"] == "staff") & (tr["wave"] == "2026Q1")]
    assert shown["mean"].notna().all()  # ten team answers in 2026Q1
    net = a002["trend"]["nps"]
    s3 = net[(net["side"] == "staff") & (net["wave"] == "2026Q3")].iloc[0]
    assert math.isnan(s3["nps"]) and math.isnan(s3["promoters"]) and s3["suppressed"]
    assert a002["comments"]["team"].empty and not a002["comments"]["team_shown"]
    assert any("piilotettu" in n for n in a002["notes"])
    # the hidden staff means appear nowhere in the report's numbers
    sc = respondent_scores(st.load_answers(account="A002", wave="2026Q3", side="staff", store=sample_store))
    staff_means = sc.groupby("dimension")["score"].mean()
    view_vals = a002["view_360"].select_dtypes("number").to_numpy(dtype=float).ravel()
    gap_vals = a002["gaps"].select_dtypes("number").drop(columns=["n_staff"]).to_numpy(dtype=float).ravel()
    client = a002["gaps"].set_index("dimension")["client_mean"]
    for d, m in staff_means.items():
        if abs(m - client[d]) > 1e-9:
            assert not np.isclose(view_vals, m).any(), d
            assert not np.isclose(gap_vals, m).any(), d
            assert not np.isclose(gap_vals, client[d] - m).any(), d


def test_client_subgroups_are_hidden_with_secondary_suppression(a001, sample_store):
    groups = a001["client_groups"]  # A001 2026Q3: 2 decision-makers, 8 users
    dm = groups[groups["role"] == "decision-maker"]
    users = groups[groups["role"] == "user"]
    assert (dm["n"] == 2).all() and dm["mean"].isna().all()
    assert users["mean"].isna().all()  # hidden too: total − users would reveal the decision-makers
    both = report_data.account_report_data("A014", "2026Q3", store=sample_store)["client_groups"]  # 7 + 7
    assert both["mean"].notna().all() and not both["suppressed"].any()


def test_account_without_team_answers_still_reports(no_staff_store):
    data = report_data.account_report_data("A001", "2026Q3", store=no_staff_store)
    assert data["headline"]["n_staff"] == 0 and data["headline"]["staff_suppressed"]
    assert any("No team member answered" in n for n in data["notes"])
    staff = data["view_360"][data["view_360"]["side"] == "staff"]
    assert len(staff) == 5 and (staff["n"] == 0).all() and staff["mean"].isna().all()
    assert len(data["gaps"]) == 5 and (data["gaps"]["evidence"] == gp.SUPPRESSED).all()
    assert data["next_meeting"]["focus"]["dimension"].tolist() == ["care"]  # the client's view alone
    assert data["comments"]["team"].empty


def test_wave_without_client_answers_still_reports(sample_store, tmp_path):
    path = relabelled_store(sample_store, tmp_path / "noclient.duckdb", {},
                            "account_id = 'A001' AND wave = '2026Q3' AND side = 'client'")
    data = report_data.account_report_data("A001", "2026Q3", store=path)
    head = data["headline"]
    assert head["summary"] == "No client answered in 2026Q3."
    assert head["n_client"] == 0 and math.isnan(head["nps"])
    assert display.headline_json(head).data["nps"] is None
    assert (data["gaps"]["evidence"] == gp.TOO_FEW).all() and data["next_meeting"]["focus"].empty
    assert data["benchmark"].empty


def test_thresholds_are_parameters(sample_store):
    loose = report_data.account_report_data("A002", "2026Q3", store=sample_store, min_group_size=2,
                                   min_comment_group_size=2, min_reliable_n=2)
    assert loose["view_360"].query("side == 'staff'")["mean"].notna().all()
    assert loose["comments"]["team_shown"]
    # the reliable minimum holds whatever the privacy thresholds: two team answers are no figure by default
    default = report_data.account_report_data("A002", "2026Q3", store=sample_store, min_group_size=2,
                                              min_comment_group_size=2)
    staff = default["view_360"].query("side == 'staff'")
    assert staff["mean"].isna().all() and (staff["reason"] == "too few answers for a reliable figure").all()


# --- free text in Markdown ------------------------------------------------------------------
def rendered(*displays) -> str:
    """Markdown (and HTML) displays (or None) rendered to HTML as nbconvert renders them."""
    return "\n".join(d.data if type(d).__name__ == "HTML" else markdown2html(d.data)
                     for d in displays if d is not None)


def assert_inert(html: str) -> None:
    low = re.sub(r'<a class="anchor-link" href="#[^"]*">', "", html.lower())  # nbconvert's heading anchors
    for tag in ("<img", "<script", "<a ", "<iframe"):
        assert tag not in low, (tag, html)


@pytest.mark.parametrize("account_id, language", [("A001", "en"), ("A002", "fi")])
def test_hostile_wave_labels_stay_text_in_every_markdown_piece(hostile_store, account_id, language):
    data = report_data.account_report_data(account_id, HOSTILE, store=hostile_store, language=language)
    account = load.load_account(account_id, HOSTILE, store=hostile_store, language=language)
    voice = data["comments"]
    no_detractors = {**voice, "detractors": voice["detractors"].iloc[0:0]}
    page_band = band.summary_band(account, headline=data["headline"], gaps=data["gaps"], overall=data["overall"],
                                  meeting=data["next_meeting"], voice=voice).to_html()
    html = page_band + rendered(display.title_markdown(account),
                    display.notes_markdown(data["notes"]), display.methods_markdown(data["methods"]),
                    display.next_meeting_markdown(data["next_meeting"], language=language),
                    display.notes_markdown(display.benchmark_notes(data["benchmark"], language=language)),
                    display.comment_list(no_detractors, "detractors", language=language, wave=HOSTILE))
    assert_inert(html)
    # … and the labels are still there to read, as text
    assert "2026Q4 &lt;img src=x onerror=alert(7)&gt;" in html
    assert "2026Q2 [x](javascript:alert(8)) &lt;script&gt;alert(9)&lt;/script&gt;" in html  # methods: waves
    if account_id == "A001":  # no team in the report's wave
        assert any(n.startswith("No team member answered in 2026Q4 &lt;img") for n in data["notes"])
    else:  # no client in the report's wave
        assert data["headline"]["summary"].startswith("Kierroksella 2026Q4 &lt;img")


def test_names_and_labels_are_escaped_where_they_meet_markdown(a001_account, monkeypatch):
    hostile = {"name": "Evil <img src=x onerror=alert(1)> Oy", "wave": HOSTILE}
    account = load.AccountData(**{**{f: getattr(a001_account, f) for f in a001_account.__dataclass_fields__},
                                **hostile, "waves": (*a001_account.waves[:-1], HOSTILE)})
    assert_inert(rendered(display.title_markdown(account)))
    labels = {d: f"<img src=x onerror=alert('{d}')>" for d in DIMS}
    monkeypatch.setattr(type(a001_account.instrument), "labels", lambda self, language="en": labels)
    meeting = account_meeting.next_meeting(a001_account, gaps=gaps_frame([3.0, 3.0, 4.0, 4.2, 4.1]))
    assert_inert(rendered(display.next_meeting_markdown(meeting)))
    assert meeting["focus"]["reason"].str.contains("Tied with &lt;img", regex=False).all()


# --- waves in time order --------------------------------------------------------------------
def test_waves_follow_time_not_text_order(numbered_store):
    order = ["Syksy 2025", "Kevät 2026", "W9", "W10"]
    data = report_data.account_report_data("A001", "W10", store=numbered_store)
    head = data["headline"]
    assert head["previous_wave"] == "W9"  # W9 had four client answers: no change is claimed against it
    assert math.isnan(head["nps_change"]) and "W9" not in head["summary"]
    # the order of the waves, with every wave published (thresholds at 1) so every change is listed
    trend = report_data.account_report_data("A001", "W10", store=numbered_store, min_group_size=1,
                                            min_client_group_size=1, min_reliable_n=1, min_comment_group_size=1
                                            )["trend"]
    assert list(dict.fromkeys(trend["dimensions"]["wave"])) == order
    assert list(dict.fromkeys(trend["nps"]["wave"])) == order
    assert list(zip(trend["changes"]["wave_from"], trend["changes"]["wave_to"])) == list(zip(order, order[1:]))
    assert data["methods"]["waves"] == order and "waves Syksy 2025, Kevät 2026, W9, W10" in data["methods"]["text"]
    # an earlier report sees only earlier waves: W10 is later than W9 although "W10" < "W9" as text
    w9 = report_data.account_report_data("A001", "W9", store=numbered_store)
    assert w9["headline"]["previous_wave"] == "Kevät 2026"
    assert list(dict.fromkeys(w9["trend"]["dimensions"]["wave"])) == order[:3]
    assert "W10" not in set(w9["trend"]["nps"]["wave"]) | set(w9["trend"]["changes"]["wave_to"])
    # "Kevät 2026" (spring) sorts before "Syksy 2025" (autumn) by label, but came after it
    spring = load.load_account("A001", "Kevät 2026", store=numbered_store)
    assert spring.waves == ("Syksy 2025", "Kevät 2026") and spring.previous_wave == "Syksy 2025"


def test_wave_order_falls_back_to_natural_order_without_dates(numbered_store, tmp_path):
    path = tmp_path / "undated.duckdb"
    shutil.copy(numbered_store, path)
    con = duckdb.connect(str(path))
    con.execute("UPDATE responses SET submitted_at = NULL")
    con.close()
    account = load.load_account("A001", "W10", store=path)
    assert account.waves == ("Kevät 2026", "Syksy 2025", "W9", "W10")  # by label, digits as numbers
    assert account.previous_wave == "W9"


# --- agreement ------------------------------------------------------------------------------
def test_agreement_is_shown_only_for_groups_of_min_group_size(sample_store):
    a003 = report_data.account_report_data("A003", "2026Q3", store=sample_store)  # three clients, two team members
    view = a003["view_360"]
    assert (view.loc[view["side"] == "client", "n"] == 3).all()
    assert view["rwg"].isna().all()
    # five clients: shown, with a caveat (A013's other differencing rules switched off by a larger team of
    # clients in no other wave: the check runs on A013's own 2026Q3 answers with the thresholds at 1)
    a013 = report_data.account_report_data("A013", "2026Q3", store=sample_store, min_client_group_size=1,
                                           min_group_size=1, min_comment_group_size=1)
    client = a013["view_360"].query("side == 'client'").set_index("dimension")
    assert client["n"].to_dict() == {"excitement": 5, "dare": 5, "professionalism": 5, "impact": 4, "care": 5}
    assert client["rwg"].drop("impact").notna().all() and np.isnan(client.loc["impact", "rwg"])
    a013_account = load.load_account("A013", "2026Q3", store=sample_store, min_client_group_size=1,
                                     min_group_size=1, min_comment_group_size=1)
    assert any("unstable" in n and "client, n = 5" in n for n in summary.agreement_notes(a013_account))
    assert not any("r_wg" in n for n in a013["notes"])  # the note on agreement sits in the analysts' appendix
    assert not any("r_wg" in n for n in report_data.account_report_data("A014", "2026Q3", store=sample_store)["notes"])
    assert "Dunlap, Burke & Smith-Crowe 2003" in a013["methods"]["text"]


# --- roles and the benchmark in the report ------------------------------------------------------
def test_comment_tables_hide_roles_of_small_client_groups(a001):
    """A001 2026Q3: two decision-makers (hidden in the role table), so no comment or detractor shows a role."""
    voice = a001["comments"]
    assert voice["roles_hidden"]
    for which in ("celebrate", "improve", "detractors"):
        frame = voice[which]
        assert frame["role"].isna().all() and frame["role_hidden"].all()
        html = display.comment_list(voice, which).to_html()
        assert "decision-maker" not in html and ">user<" not in html
        assert ">Role<" not in html  # no role may be shown: the column is left out, and the caption says why
        assert "<caption>A client&#x27;s role is shown as “–”" in html
    assert any(n.startswith("A client's role is shown as “–”") for n in a001["notes"])


def test_benchmark_quartiles_in_the_report(a001, sample_store):
    bench = a001["benchmark"]
    assert bench["quartiles_shown"].all() and (bench["n_accounts"] >= 10).all()
    means = bench[bench["measure"] != "nps"]
    assert np.allclose(means[["ref_p25", "ref_median", "ref_p75"]] * 10,
                       (means[["ref_p25", "ref_median", "ref_p75"]] * 10).round())
    html = tables.benchmark_table(bench).to_html()
    care = means.set_index("measure").loc["care"]
    assert f"{care['ref_p25']:.1f} … {care['ref_p75']:.1f}" in html
    assert display.benchmark_notes(bench) == []
    few = bench.assign(quartiles_shown=False, ref_p25=np.nan, ref_median=np.nan, ref_p75=np.nan, n_accounts=7)
    (note,) = display.benchmark_notes(few)
    assert "at least 10 other accounts compare (here 7)" in note
    assert display.benchmark_notes(few, language="fi")[0].startswith("Salkun mediaani")


# --- errors -------------------------------------------------------------------------------
def test_unknown_account_is_a_clear_error(sample_store):
    with pytest.raises(ValueError, match="Unknown account 'A999'"):
        report_data.account_report_data("A999", "2026Q3", store=sample_store)


def test_wave_without_data_is_a_clear_error(sample_store):
    with pytest.raises(ValueError, match=r"A001 has no survey answers in wave '2027Q1'.*2025Q4, 2026Q1"):
        report_data.account_report_data("A001", "2027Q1", store=sample_store)


def test_bad_settings_are_errors(sample_store):
    with pytest.raises(ValueError, match="language"):
        report_data.account_report_data("A001", "2026Q3", store=sample_store, language="sv")
    with pytest.raises(ValueError, match="at least 1"):
        report_data.account_report_data("A001", "2026Q3", store=sample_store, min_group_size=0)


@pytest.mark.parametrize("settings, message", [
    ({"min_comment_group_size": 0}, "min_comment_group_size must be a whole number of at least 1, not 0"),
    ({"min_group_size": 2.5}, "min_group_size must be a whole number of at least 1, not 2.5"),
    ({"min_group_size": "five"}, "min_group_size must be a whole number of at least 1, not 'five'"),
    ({"min_group_size": 12}, r"min_comment_group_size \(10\) must be at least min_group_size \(12\)"),
])
def test_bad_thresholds_name_the_setting(sample_store, settings, message):
    with pytest.raises(ValueError, match=message):
        load.load_account("A001", "2026Q3", store=sample_store, **settings)


def test_shared_sections_are_computed_once(sample_store, monkeypatch):
    """The headline, its notes and the report reuse one gaps table and one set of comment lists."""
    calls = {"perception_gaps": 0, "voice_of_client": 0}
    for module, name in ((gp, "perception_gaps"), (cm, "voice_of_client")):
        real = getattr(module, name)

        def counted(*args, _real=real, _name=name, **kwargs):
            calls[_name] += 1
            return _real(*args, **kwargs)

        monkeypatch.setattr(module, name, counted)
    data = report_data.account_report_data("A001", "2026Q3", store=sample_store)
    assert calls == {"perception_gaps": 1, "voice_of_client": 1}
    account = load.load_account("A001", "2026Q3", store=sample_store)
    assert data["notes"] == data["headline"]["notes"] == summary.privacy_notes(account)


def test_earlier_wave_report_does_not_see_later_waves(sample_store):
    data = report_data.account_report_data("A001", "2026Q1", store=sample_store)
    assert set(data["trend"]["dimensions"]["wave"]) == {"2025Q4", "2026Q1"}
    assert data["headline"]["previous_wave"] == "2025Q4"


# --- display helpers ------------------------------------------------------------------------
def test_tables_escape_free_text(a001, sample_store):
    account = load.load_account("A001", "2026Q3", store=sample_store)
    html = display.comment_list(a001["comments"], "celebrate").to_html()
    assert "&lt;script&gt;" in html and "<script>" not in html
    bad = a001["view_360"].assign(side="client", dimension="<img src=x onerror=alert(1)>")
    assert "<img" not in tables.view_table(bad).to_html()
    fi = tables.gaps_table(a001["gaps"], language="fi").to_html()
    assert "Välittäminen" in fi and "Ero (asiakas − tiimi)" in fi
    assert display.title_markdown(account).data == "<h1><bdi>Pohjolan Energia</bdi> (<bdi>A001</bdi>)</h1>"


def test_team_comment_list_below_threshold_is_a_note(a002):
    md = display.comment_list(a002["comments"], "team", language="fi")
    assert "Tiimin kommentteja ei näytetä" in md.data


def test_headline_json_only_json_and_nan_as_null(a001):
    from IPython.core.interactiveshell import InteractiveShell

    payload = display.headline_json(a001["headline"]).data
    assert list(payload) == ["account_id", "wave", "n_client", "n_staff", "nps", "nps_ci_low", "nps_ci_high",
                             "name", "previous_wave", "nps_change", "nps_change_ci_low", "nps_change_ci_high",
                             "nps_change_clear", "blind_spots", "possible_blind_spots", "hidden_strengths",
                             "few_answers", "client_score", "team_score", "followups_overdue", "withheld"]
    assert payload["followups_overdue"] is None  # no loop given: not shown
    empty = display.headline_json({**a001["headline"], "nps": float("nan"), "nps_ci_low": np.nan})
    assert empty.data["nps"] is None and empty.data["nps_ci_low"] is None
    json.dumps(empty.data, allow_nan=False)
    shell = InteractiveShell.instance()
    published = []
    shell.display_pub.publish = lambda data, metadata=None, **kw: published.append(data)
    try:
        empty._ipython_display_()
    finally:
        InteractiveShell.clear_instance()
    assert published == [{"application/json": empty.data}]


# --- the notebook -----------------------------------------------------------------------------
def test_notebook_is_committed_clean():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    assert nb.nbformat == 4 and nb.metadata["kernelspec"]["name"] == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert "parameters" in code[0].metadata["tags"]
    assert sum("headline" in c.metadata.get("tags", []) for c in code) == 1
    assert all("hide-input" in c.metadata.get("tags", []) for c in code[1:])
    assert not any(re.search(r"^\s*(def|class)\s", c.source, re.M) for c in code)
    heading = next(i for i, c in enumerate(nb.cells) if c.cell_type == "markdown"
                   and c.source.startswith("## The 360° view"))
    assert "dot_plot" in nb.cells[heading + 2].source  # after the heading in each language: one 360° picture
    assert not any("flame_chart" in c.source for c in code)


def test_notebook_prose_is_written_once_per_language():
    """Every Markdown cell is English or Finnish (the batch keeps the page's own), one of each per text."""
    from helpers.batch.language import cell_language
    from helpers.words import say

    nb = nbformat.read(NOTEBOOK, as_version=4)
    prose = [c for c in nb.cells if c.cell_type == "markdown"]
    langs = [cell_language(c) for c in prose]
    assert None not in langs and langs == ["en", "fi"] * (len(prose) // 2)
    for en, fi in zip(prose[::2], prose[1::2]):  # the same heading level in both, each in its own words
        assert en.source.split(" ")[0] == fi.source.split(" ")[0] and en.source != fi.source
    last = {lang: c.source.splitlines()[0][3:] for lang, c in zip(langs, prose) if c.source.startswith("## ")}
    assert last == {lang: say("account.appendix", lang) for lang in ("en", "fi")}  # the last section: the appendix
    assert [c.source.splitlines()[0] for c in prose[:2]] == ["# Partnership report", "# Kumppanuusraportti"]
    assert all("remove-cell" in c.metadata["tags"] for c in prose[:2])  # names the page (<title>), not shown


def test_notebook_parameters_are_documented():
    params = pm.inspect_notebook(str(NOTEBOOK))
    assert list(params) == ["account_id", "wave", "store", "language", "min_group_size", "min_client_group_size",
                            "min_comment_group_size"]
    assert all(p["help"] for p in params.values())
    assert {k: (p["inferred_type_name"], p["default"]) for k, p in params.items()} == {
        "account_id": ("str", '"A001"'), "wave": ("str", '"2026Q3"'), "store": ("str", '""'),
        "language": ("str", '"en"'), "min_group_size": ("int", "5"), "min_client_group_size": ("int", "5"),
        "min_comment_group_size": ("int", "10")}


def run_notebook(tmp_path, parameters=None):
    out = tmp_path / "account_report.ipynb"
    nb = pm.execute_notebook(str(NOTEBOOK), str(out), parameters=parameters or {}, kernel_name="python3",
                             progress_bar=False, cwd=str(ROOT / "notebooks"))
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors, errors
    return nb


def outputs(nb):
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]


def headline_of(nb):
    cell = next(c for c in nb.cells if "headline" in c.metadata.get("tags", []))
    (out,) = cell.outputs
    assert set(out["data"]) == {"application/json"}
    return out["data"]["application/json"]


def view_output(nb):
    """The output of the 360° view's chart cell (the one cell that calls dot_plot)."""
    cell = next(c for c in nb.cells if c.cell_type == "code" and "ar.dot_plot(" in c.source)
    (out,) = cell.outputs
    return out


@pytest.mark.slow
def test_notebook_runs_with_its_defaults(sample_store, tmp_path, monkeypatch):
    monkeypatch.setenv("FLAMEKIT_STORE", str(sample_store))  # as FLAMEKIT_STORE=… papermill …
    nb = run_notebook(tmp_path)
    head = headline_of(nb)
    expected = report_data.account_report_data("A001", "2026Q3", store=sample_store)["headline"]
    assert head["account_id"] == "A001" and head["n_client"] == 10 and head["n_staff"] == 15
    assert head["nps"] == pytest.approx(expected["nps"]) and head["nps_ci_low"] == pytest.approx(
        expected["nps_ci_low"], abs=1e-5)
    view = view_output(nb)
    assert "image/png" in view["data"] and view["metadata"]["image/png"]["alt"].startswith("dot chart")
    html = "".join(o.get("data", {}).get("text/html", "") for o in outputs(nb))
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert html.count('class="fk-band"') == 1 and "Client NPS is 0 (n = 10; 95% CI −41 to +41)" in html
    markdown = "".join(o.get("data", {}).get("text/markdown", "") for o in outputs(nb))
    assert "Focus areas" in markdown
    assert set(re.findall(r"\bA\d{3}\b", html + markdown)) == {"A001"}


@pytest.mark.slow
def test_notebook_runs_in_finnish(sample_store, tmp_path):
    nb = run_notebook(tmp_path, {"language": "fi", "store": str(sample_store)})
    markdown = "".join(o.get("data", {}).get("text/markdown", "") for o in outputs(nb))
    assert "Kehityskohteet" in markdown
    html = "".join(o.get("data", {}).get("text/html", "") for o in outputs(nb))
    assert "Asiakkaiden NPS on 0" in html and "Välittäminen" in html and "Kommentti" in html
    assert headline_of(nb)["account_id"] == "A001"
    assert view_output(nb)["metadata"]["image/png"]["alt"].startswith("pistekaavio")


@pytest.mark.slow
def test_notebook_with_a_hidden_team_view(sample_store, tmp_path):
    nb = run_notebook(tmp_path, {"account_id": "A002", "store": str(sample_store)})
    markdown = "".join(o.get("data", {}).get("text/markdown", "") for o in outputs(nb))
    assert "Team results are hidden: 2 team members answered" in markdown
    assert "Team comments are not shown" in markdown
    assert headline_of(nb)["n_staff"] == 2
    assert markdown.count("Team results are hidden") == 1  # the notes are shown once, with the headline


@pytest.mark.slow
def test_notebook_with_a_hostile_wave_label(hostile_store, tmp_path):
    nb = run_notebook(tmp_path, {"wave": HOSTILE, "store": str(hostile_store)})
    markdown = [o["data"]["text/markdown"] for o in outputs(nb) if "text/markdown" in o.get("data", {})]
    html = "\n".join(markdown2html(m) for m in markdown)
    html += "".join(o.get("data", {}).get("text/html", "") for o in outputs(nb))
    assert_inert(html)
    assert "2026Q4 &lt;img src=x onerror=alert(7)&gt;" in html


@pytest.mark.slow
def test_all_suppressed_account_reports_without_a_number_of_any_group(sample_store, tmp_path):
    """Thresholds above every group of A001 (10 client, 15 team answers): nothing of a group may show."""
    data = report_data.account_report_data("A001", "2026Q3", store=sample_store, min_group_size=20,
                                  min_comment_group_size=20)
    staff = data["view_360"][data["view_360"]["side"] == "staff"]
    assert staff["suppressed"].all() and staff[["mean", "ci_low", "ci_high"]].isna().all().all()
    assert (data["gaps"]["evidence"] == gp.SUPPRESSED).all() and data["gaps"]["label"].isna().all()
    groups = data["client_groups"]
    assert groups["suppressed"].all() and groups["mean"].isna().all()
    assert not data["comments"]["team_shown"] and data["headline"]["staff_suppressed"]
    assert data["next_meeting"]["strengths"].empty or "gap" not in data["next_meeting"]["strengths"]
    nb = run_notebook(tmp_path, {"store": str(sample_store), "min_group_size": 20, "min_comment_group_size": 20})
    markdown = "".join(o.get("data", {}).get("text/markdown", "") for o in outputs(nb))
    assert "Team results are hidden: 15 team members answered" in markdown
    # the hidden team means appear nowhere in the notebook (tables, plots' embedded data, JSON)
    team_means = report_data.account_report_data("A001", "2026Q3", store=sample_store)["view_360"].query("side == 'staff'")
    text = json.dumps([o.get("data", {}) for o in outputs(nb)
                       if "image/png" not in o.get("data", {})], ensure_ascii=False)
    client = data["view_360"].query("side == 'client'")
    shown = {f"{v:.2f}" for v in client[["mean", "ci_low", "ci_high"]].to_numpy().ravel()}
    for m in team_means["mean"]:
        if f"{m:.2f}" not in shown:  # a team mean that happens to equal a shown client figure proves nothing
            assert f"{m:.2f}" not in text, m


def test_display_helpers_use_the_accounts_own_instrument(sample_store, tmp_path, monkeypatch):
    # an instrument file of its own (same items, other labels), given in Python only: no $FLAMEKIT_INSTRUMENT
    monkeypatch.delenv("FLAMEKIT_INSTRUMENT", raising=False)
    shipped = Path(instrument.__file__).with_name("instrument.yml").read_text(encoding="utf-8")
    own = tmp_path / "own.yml"
    own.write_text(shipped.replace("{en: Care, fi: Välittäminen}", "{en: Attentiveness, fi: Huolenpito}"),
                   encoding="utf-8")
    account = load.load_account("A001", "2026Q3", store=sample_store, instrument=own)
    gaps = sections.gaps_section(account)
    shown = {"view": tables.view_table(sections.view_360(account)), "gaps": tables.gaps_table(gaps),
             "groups": tables.groups_table(sections.client_groups(account)),
             "glance": tables.perception_table(sections.view_360(account), gaps),
             "benchmark": tables.benchmark_table(sections.benchmark_section(account), language="fi")}
    for name, table in shown.items():
        html = table.to_html()
        assert ("Huolenpito" if name == "benchmark" else "Attentiveness") in html, name
        assert ">Care<" not in html and "Välittäminen" not in html, name
    meeting = account_meeting.next_meeting(account, gaps=gaps)
    text = rendered(display.next_meeting_markdown(meeting))
    labels = {"Excitement", "Dare", "Professionalism", "Impact", "Attentiveness"}
    assert any(label in text for label in labels) and "Care" not in text
    hidden = sections.benchmark_section(account).assign(shown=False)  # as for an account without a benchmark
    assert "Huolenpito" in " ".join(display.benchmark_notes(hidden, language="fi"))
    # the charts as well: the flame chart's axis labels, the dot plot's, the gap plot's and the trend's legend
    from helpers.report.account import plots

    view, trend = sections.view_360(account), sections.trend_section(account)
    drawn = [plots.flame_chart(view), plots.dot_plot(view, gaps=gaps), plots.gap_plot(gaps),
             plots.trend_plot(trend["dimensions"], nps=trend["nps"])]
    for ax in drawn:
        fig = ax if hasattr(ax, "axes") and not hasattr(ax, "figure") else ax.figure
        words = " ".join(t.get_text() for t in fig.findobj(lambda o: hasattr(o, "get_text")))
        assert "Attentiveness" in words and "Care" not in words.replace("Attentiveness", "")
        plt.close(fig)
    own.unlink()  # the labels come with the frames, not from the file again
    assert "Attentiveness" in tables.view_table(sections.view_360(account)).to_html()
    # frames made elsewhere, or elsewhere combined, get the instrument in use
    assert instrument.instrument_of(pd.DataFrame()).labels("en")["care"] == "Care"


def test_the_sample_comment_naming_the_owner_reaches_the_report_scrubbed(a001):
    """The planted comment names A001's owner (in a case form), a phone number and an e-mail address."""
    text = as_text(a001)
    assert "[name removed] ansiosta asiat hoituvat" in text
    assert "[phone removed]" in text and "[email removed]" in text
    assert "Åström" not in text and "040 123 4567" not in text and "example.com" not in text
