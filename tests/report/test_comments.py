"""Voice of the client: scrubbing, escaping (HTML and Markdown), classification, thresholds, follow-up list."""

from __future__ import annotations

import pandas as pd
import pytest
from nbconvert.filters import markdown2html

from helpers.data import store as st
from helpers.data.disclosure import complementary_suppression
from helpers.report import comments as cm

ATTACKS = [
    '<script>alert("x")</script>',
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">click</a>',
    "[click me](javascript:alert(1))",
    "![pixel](http://evil.example/track.png)",
    "<javascript:alert(1)>",
    "**urgent** _now_ # heading",
    "<iframe src=//evil.example></iframe>",
]


def responses(rows: list[tuple]) -> pd.DataFrame:
    """(side, role, nps, comment) tuples → a responses frame like store.load_responses."""
    return pd.DataFrame(rows, columns=["side", "role", "nps", "comment"]).assign(
        account_id="A001", wave="2026Q3", response_id=lambda f: [f"R{i}" for i in range(len(f))],
        respondent_id=lambda f: [f"P{i}" for i in range(len(f))], team="Hankinta")


# --- cleaning and escaping ------------------------------------------------------------
def test_clean_comment_scrubs_contacts_and_whitespace():
    assert cm.clean_comment("Soittakaa minulle: 040 123 4567, niin käydään läpi laskutus.") == \
        "Soittakaa minulle: [phone removed], niin käydään läpi laskutus."
    assert cm.clean_comment("Palautetta: matti.meikalainen@example.fi") == "Palautetta: [email removed]"
    assert cm.clean_comment("Please call +358 50 765 4321\n about  it") == "Please call [phone removed] about it"
    assert cm.clean_comment("   ") is None and cm.clean_comment(None) is None
    assert cm.clean_comment(float("nan")) is None and cm.clean_comment(pd.NA) is None


@pytest.mark.parametrize("attack", ATTACKS)
def test_html_safe_leaves_no_markup(attack):
    out = cm.html_safe(attack)
    assert "<" not in out and ">" not in out and '"' not in out


@pytest.mark.parametrize("attack", ATTACKS)
def test_markdown_safe_renders_as_plain_text(attack):
    html = markdown2html(cm.markdown_safe(attack))
    for tag in ("<script", "<img", "<a ", "<iframe", "<strong", "<em", "<h1"):
        assert tag not in html.lower(), (attack, html)


@pytest.mark.parametrize("attack", ATTACKS + ["2026Q4 <img src=x onerror=alert(7)>", "W1\n# heading", "040 1234567"])
def test_markdown_escape_makes_labels_inert_without_scrubbing(attack):
    out = cm.markdown_escape(attack)
    html = markdown2html(out)
    for tag in ("<script", "<img", "<a ", "<iframe", "<strong", "<em", "<h1"):
        assert tag not in html.lower(), (attack, html)
    assert "\n" not in out
    assert cm.markdown_escape("040 1234567") == "040 1234567"  # a label is not a comment: nothing removed
    assert cm.markdown_escape(None) == "" and cm.markdown_escape(float("nan")) == ""


def test_markdown_safe_keeps_the_words():
    html = markdown2html(cm.markdown_safe("Hyvä palvelu – kiitos! [linkki](javascript:x) 1. ei lista "
                                          "https://evil.example/x www.evil.example"))
    assert "Hyvä palvelu – kiitos!" in html and "javascript:x" in html and "<ol" not in html
    assert "https://evil.example/x" in html and "<a" not in html  # shown, not autolinked


def test_pandas_styler_does_not_escape_by_default_but_comments_table_does():
    frame = pd.DataFrame({"role": ["user"], "nps": [3], "comment": ['<script>alert("x")</script>']})
    assert "<script>" in frame.style.to_html()  # the trap the report avoids
    html = cm.comments_table(frame).to_html()
    assert "<script>" not in html and "&lt;script&gt;" in html


@pytest.mark.parametrize("attack", ATTACKS)
def test_comments_table_escapes_every_attack(attack):
    frame = pd.DataFrame({"role": ["<b>boss</b>"], "nps": [3], "comment": [attack]})
    html = cm.comments_table(frame, language="fi").to_html().lower()
    for tag in ("<script", "<img", "<a ", "<iframe", "<b>"):
        assert tag not in html
    assert "kommentti" in html  # Finnish headers


# --- classification ------------------------------------------------------------------------
@pytest.mark.parametrize("text, score, expected", [
    ("Yhteistyö on sujunut erinomaisesti, kiitos koko tiimille!", 8, ("celebrate", "keywords")),
    ("Great energy in the workshops – keep it up.", 6, ("celebrate", "keywords")),
    ("Toivoisimme nopeampaa reagointia yhteydenottoihin.", 9, ("improve", "keywords")),
    ("More proactive ideas would be welcome; now we mostly get what we ask for.", 10, ("improve", "keywords")),
    ("Raportointi voisi olla selkeämpää ja säännöllisempää.", 7, ("improve", "keywords")),
    ("Great people, but reporting should be faster.", 9, ("celebrate", "nps group")),  # both cues: NPS decides
    ("Great people, but reporting should be faster.", 7, ("improve", "nps group")),
    ("Please call about the renewal.", 10, ("celebrate", "nps group")),  # no cue
    ("Please call about the renewal.", 8, ("improve", "nps group")),
    ("Please call about the renewal.", None, ("improve", "nps group")),
    ("", 10, (None, None)),
])
def test_classify_comment(text, score, expected):
    assert cm.classify_comment(text, score) == expected


def test_cues_match_word_starts_only():
    assert cm.classify_comment("Lessons learned", 7) == ("improve", "nps group")  # 'less' only as a whole word
    assert cm.classify_comment("The wording is nothing special", 9)[1] == "nps group"  # 'not' likewise
    assert cm.classify_comment("Asiakaspalvelu hyvä", 7) == ("celebrate", "keywords")  # a cue after a space
    assert cm.classify_comment("Epähyvä", 9)[1] == "nps group"  # not inside a word


def test_client_comments_sorted_and_without_ids():
    r = responses([("client", "user", 10, "Kiitos, hienoa työtä!"), ("client", "user", 9, "Great work"),
                   ("client", "decision-maker", 3, "Reporting should be clearer"),
                   ("client", "user", 7, "Toivoisimme nopeampaa reagointia"), ("client", "user", 9, None),
                   ("staff", "sales", 10, "Great client")])
    out = cm.client_comments(r)
    assert list(out.columns) == cm.COMMENT_COLUMNS
    assert len(out) == 4  # empty comments and staff left out
    cel, imp = out[out["category"] == "celebrate"], out[out["category"] == "improve"]
    assert cel["nps"].tolist() == [10, 9] and imp["nps"].tolist() == [3, 7]
    assert out.loc[out["nps"] == 3, "nps_group"].item() == "detractor"


def test_detractor_followups():
    r = responses([("client", "user", 6, "Soita 040 123 4567"), ("client", "decision-maker", 2, None),
                   ("client", "user", 7, "meh"), ("staff", "sales", 1, "bad client")])
    out = cm.detractor_followups(r, min_group_size=1)
    assert list(out.columns) == ["role", "role_hidden", "nps", "comment"]
    assert out["nps"].tolist() == [2, 6]
    assert out["comment"].tolist() == [None, "Soita [phone removed]"]
    assert out["role"].tolist() == ["decision-maker", "user"] and not out["role_hidden"].any()
    # with the default threshold (5) one decision-maker and two users are too few to name
    hidden = cm.detractor_followups(r)
    assert hidden["role"].isna().all() and hidden["role_hidden"].all() and hidden["nps"].tolist() == [2, 6]


def clients(counts: dict[str, int], nps: int = 3) -> pd.DataFrame:
    """Client responses with the given number of answers per role, every one a commenting detractor."""
    rows = [("client", role, nps, f"{role} comment {i}") for role, n in counts.items() for i in range(n)]
    return responses(rows)


@pytest.mark.parametrize("counts, shown", [
    ({"decision-maker": 2, "user": 8}, set()),         # as A001 2026Q3: hiding only the two would name them
    ({"decision-maker": 7, "user": 7}, {"decision-maker", "user"}),
    ({"decision-maker": 5, "user": 3, None: 3}, {"decision-maker"}),  # 3 + 3 hidden together: 6 ≥ 5
    ({"decision-maker": 2, "user": 6, "owner": 9}, {"owner"}),  # 2 hidden → the smallest shown (6) too
    ({"user": 4}, set()),
])
def test_roles_are_shown_only_for_groups_of_min_group_size(counts, shown):
    r = clients(counts)
    visible = cm.visible_roles(r)
    assert set(r.loc[visible, "role"].dropna()) == shown
    hidden_n = int((~visible).sum())
    assert hidden_n in (0, len(r)) or hidden_n >= 5  # "–" stands for no fewer than five people (or everyone)
    for out in (cm.client_comments(r), cm.detractor_followups(r)):
        assert set(out["role"].dropna()) == shown
        assert out.loc[out["role_hidden"], "role"].isna().all()
        assert out["role_hidden"].sum() == hidden_n
    voice = cm.voice_of_client(r)
    assert voice["roles_hidden"] is (hidden_n > 0)


@pytest.mark.parametrize("counts, hidden", [
    ({"a": 2, "b": 8}, {"a", "b"}),                 # hiding a alone: the total minus b would give it away
    ({"a": 7, "b": 7}, set()),
    ({"a": 5, "b": 3, "c": 3}, {"b", "c"}),         # 3 + 3 hidden together: 6 ≥ 5, nothing more
    ({"a": 2, "b": 6, "c": 9}, {"a", "b"}),         # the smallest shown group joins the hidden one
    ({"a": 1, "b": 6, "c": 6}, {"a", "b"}),         # a tie for the smallest: the first in the given order
    ({"a": 4}, {"a"}),
    ({}, set()),
])
def test_secondary_suppression_by_hand(counts, hidden):
    assert complementary_suppression(pd.Series(counts, dtype="int64"), min_group_size=5) == hidden


def test_hidden_roles_show_a_dash_in_both_languages():
    r = clients({"decision-maker": 2, "user": 8})
    for language, role_text in (("en", "decision-maker"), ("fi", "päättäjä")):
        for frame in (cm.client_comments(r), cm.detractor_followups(r)):
            html = cm.comments_table(frame, language=language).to_html()
            assert role_text not in html.replace("decision-maker comment", "")
            assert "user" not in html.replace("user comment", "") and "käyttäjä" not in html
            assert f">{cm.HIDDEN_ROLE_TEXT[language]}</td>" in html


def test_roles_are_counted_per_account_and_wave():
    two_waves = pd.concat([clients({"decision-maker": 5}).assign(wave="2026Q2"),
                           clients({"decision-maker": 2, "user": 3}).assign(wave="2026Q3")], ignore_index=True)
    visible = cm.visible_roles(two_waves)
    assert visible[two_waves["wave"] == "2026Q2"].all() and not visible[two_waves["wave"] == "2026Q3"].any()


def test_roles_of_small_client_groups_are_hidden_on_the_sample_store(sample_store):
    """A001 in 2026Q3: two decision-makers and eight users, so no comment or detractor shows a role."""
    r = st.load_responses(account="A001", wave="2026Q3", store=sample_store)
    assert r[r["side"] == "client"]["role"].value_counts().to_dict() == {"user": 8, "decision-maker": 2}
    voice = cm.voice_of_client(r)
    every = pd.concat([voice["celebrate"], voice["improve"], voice["detractors"]])
    assert len(every) and every["role"].isna().all() and every["role_hidden"].all() and voice["roles_hidden"]
    both = st.load_responses(account="A014", wave="2026Q3", store=sample_store)  # seven of each
    shown = cm.voice_of_client(both)
    listed = pd.concat([shown["celebrate"], shown["improve"], shown["detractors"]])
    assert listed["role"].notna().all() and not shown["roles_hidden"]


@pytest.mark.parametrize("n_staff, shown", [(9, False), (10, True)])
def test_team_comments_need_enough_team_answers(n_staff, shown):
    rows = [("staff", "sales", 8, f"Comment {chr(90 - i)}") for i in range(n_staff)]
    r = responses(rows + [("client", "user", 9, "Great")])
    out = cm.team_comments(r, min_comment_group_size=10)
    assert (len(out) == n_staff) is shown and (out.empty is not shown)
    assert list(out.columns) == ["comment"]  # no role, no team
    if shown:
        assert out["comment"].tolist() == sorted(out["comment"])  # not in submission order
    voice = cm.voice_of_client(r, min_comment_group_size=10)
    assert voice["team_shown"] is shown and voice["n_staff"] == n_staff


def test_voice_of_client_on_the_sample_store(sample_store):
    r = st.load_responses(account="A001", wave="2026Q3", store=sample_store)
    voice = cm.voice_of_client(r)
    assert {"celebrate", "improve", "detractors", "team", "team_shown"} <= set(voice)
    every = pd.concat([voice["celebrate"], voice["improve"]])
    script = every[every["comment"].str.contains("<script>", regex=False)]
    assert len(script) == 1  # kept as text in the data …
    html = cm.comments_table(every).to_html()
    assert "<script>" not in html and "&lt;script&gt;" in html  # … and inert in HTML
    for frame in (voice["celebrate"], voice["improve"], voice["detractors"], voice["team"]):
        assert not {"response_id", "respondent_id", "account_id", "team"} & set(frame.columns)


def test_contacts_in_the_sample_store_are_scrubbed(sample_store):
    r = st.load_responses(wave="2026Q3", side="client", store=sample_store)
    with_contact = r[r["comment"].str.contains("@|040 123|\\+358", na=False)]
    assert len(with_contact)
    account = with_contact["account_id"].iloc[0]
    voice = cm.voice_of_client(r[r["account_id"] == account])
    text = " ".join(pd.concat([voice["celebrate"], voice["improve"], voice["detractors"]])["comment"].dropna())
    assert "@" not in text and "040 123" not in text and "+358" not in text
    assert "removed]" in text
