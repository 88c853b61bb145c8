"""Voice of the client: comments to celebrate, comments to act on, detractors to call.

Rules, stated plainly so a reader can judge them:

* **Cleaning.**  Every comment passes :func:`helpers.data.privacy.scrub_contacts`
  (e-mail addresses and phone numbers become ``[email removed]`` /
  ``[phone removed]``) and has its whitespace collapsed.  Frames hold this
  *plain* text; it is escaped where it is put into HTML
  (:func:`comments_table`, :func:`html_safe`) or Markdown (:func:`markdown_safe`),
  so ``<script>``, ``<img onerror=…>``, ``javascript:`` links and Markdown
  links or images stay inert text.
* **Classification** (:func:`classify_comment`) — a simple, transparent rule,
  not a sentiment model: bilingual (English/Finnish) cue words for praise and
  for improvement are looked for at word starts.  If only praise cues are
  found the comment is *celebrate*; if only improvement cues, *improve*.  With
  both or neither, the respondent's NPS group decides: promoters (9–10) →
  celebrate; passives, detractors and respondents without an NPS → improve
  (a score below 9 says something holds them back).  The ``basis`` column says
  which rule applied.  Expect misreads of irony, negation ("not bad") and
  other languages.
* **Team comments** are shown only when at least ``min_comment_group_size``
  team members answered in the wave, without role or team, in alphabetical
  order (so the order does not follow submission time).
* **Detractor follow-up**: every client respondent with NPS 0–6 — role, score
  and cleaned comment, never a name or an id.
* **Roles next to exact scores.**  A comment table puts a person's role next to
  their exact NPS, so a role is shown only when at least ``min_group_size``
  clients of the account answered in that role in the wave
  (:func:`helpers.report.comments.visible_roles`).  When the hidden roles add up to fewer than
  ``min_group_size`` answers, the smallest shown roles are hidden too, as in
  the client sub-group table, so "–" never stands for one known small group.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from helpers.data.disclosure import complementary_suppression
from helpers.data.privacy import (
    MIN_COMMENT_GROUP_SIZE,
    MIN_GROUP_SIZE,
    escape_text,
    scrub_comment,
)
from helpers.report.formatting import check_language, people_table
from helpers.words import LANGUAGES, say, section
from helpers.stats.scores import classify_nps

CELEBRATE = "celebrate"
IMPROVE = "improve"

#: Regular expressions, matched case-insensitively at the start of a word.
PRAISE_CUES = (
    # English
    r"great", r"excellent", r"thank", r"keep (?:it|up)", r"good", r"well done", r"love", r"appreciat",
    r"impress", r"helpful", r"outstanding", r"smooth", r"brilliant", r"happy", r"pleased",
    # Finnish
    r"kiitos", r"kiitt", r"erinomai", r"hien", r"hyvä\b", r"hyvin", r"loista", r"asiantunte", r"välittäv",
    r"jatketaan", r"sujunut", r"onnistu", r"tyytyväi", r"mahtav", r"upea", r"aidosti kiinnostu",
)
IMPROVE_CUES = (
    # English
    r"should", r"could", r"would be", r"wish", r"hope", r"more\b", r"less\b", r"faster", r"slow", r"late\b",
    r"delay", r"slip", r"better", r"improv", r"lack", r"missing", r"problem", r"issue", r"not\b", r"never",
    r"don't", r"didn't", r"unclear", r"difficult", r"stretched",
    # Finnish
    r"toivo", r"voisi", r"pitäisi", r"tulisi", r"parempa", r"paremmin", r"parann", r"nopeam", r"hida",
    r"ongelm", r"puutt", r"ettei", r"eivät", r"ei ole", r"jää\b", r"vaihtuvuu", r"selkeämp", r"myöhä",
    r"viive", r"viiväs", r"heikko", r"huono", r"kehitettävä",
)
_PRAISE = re.compile(r"(?<!\w)(?:" + "|".join(PRAISE_CUES) + ")", re.IGNORECASE)
_IMPROVE = re.compile(r"(?<!\w)(?:" + "|".join(IMPROVE_CUES) + ")", re.IGNORECASE)

ROLE_TEXT = {lang: section("comments.role", lang) for lang in LANGUAGES}
#: How a role hidden by :func:`visible_roles` is displayed, per language.
HIDDEN_ROLE_TEXT = {lang: say("comments.hidden_role", lang) for lang in LANGUAGES}
COLUMN_TEXT = {lang: section("comments.header", lang) for lang in LANGUAGES}
VALUE_TEXT = {lang: section("comments.value", lang) for lang in LANGUAGES}
COMMENT_COLUMNS = ["role", "role_hidden", "nps", "nps_group", "category", "basis", "comment"]
_NO_ROLE = object()  # stands for a missing role when roles are counted
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>/:])")


def _none_for_missing(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Text columns as object dtype with None (not NaN) for missing values."""
    out = frame.copy()
    for c in columns:
        out[c] = out[c].astype(object).where(out[c].notna(), None)
    return out


def clean_comment(text: object, *, names: Sequence[str] = (), ids: Sequence[str] = ()) -> str | None:
    """Scrub contacts, known people, name patterns and ids, and collapse whitespace; empty or missing → None.

    ``names`` and ``ids`` are passed to :func:`helpers.data.privacy.scrub_comment`.

    Examples
    --------
    >>> clean_comment("  Call me:\\n040 123 4567 ")
    'Call me: [phone removed]'
    >>> clean_comment("Kiitos Mikko Virtanen (R17)", ids=["R17"])
    'Kiitos [name removed] ([id removed])'
    """
    if text is None or (isinstance(text, float) and np.isnan(text)) or text is pd.NA:
        return None
    s = re.sub(r"\s+", " ", str(scrub_comment(str(text), names=names, ids=ids))).strip()
    return s or None


def html_safe(text: object) -> str:
    """Cleaned comment, HTML-escaped: safe inside an HTML element or attribute.

    Examples
    --------
    >>> html_safe('<img src=x onerror=alert(1)>')
    '&lt;img src=x onerror=alert(1)&gt;'
    """
    return escape_text(clean_comment(text))


def markdown_escape(text: object) -> str:
    """Any free text (a wave label, an account name, a role) made inert inside Markdown.

    HTML-escapes ``<``, ``>`` and ``&`` and backslash-escapes Markdown syntax,
    like :func:`markdown_safe`, and collapses whitespace (so a line break cannot
    start a heading or a list), but does not scrub contacts: labels are not
    comments.  Missing → "".

    Examples
    --------
    >>> markdown_escape("2026Q4 <img src=x onerror=alert(7)>")
    '2026Q4 &lt;img src=x onerror=alert\\\\(7\\\\)&gt;'
    """
    if text is None or text is pd.NA or (isinstance(text, float) and np.isnan(text)):
        return ""
    s = re.sub(r"\s+", " ", str(text)).strip()
    return _MD_SPECIAL.sub(r"\\\1", html.escape(s, quote=False))


def markdown_safe(text: object) -> str:
    """Cleaned comment, safe inside Markdown: HTML-escaped and Markdown syntax backslash-escaped.

    Links, images, emphasis, headings and raw HTML in the comment all render
    as the literal characters; ``/`` and ``:`` are escaped too, so a bare
    ``http://…`` is not turned into a link by autolinking renderers.

    Examples
    --------
    >>> markdown_safe("[click](javascript:alert(1))")
    '\\\\[click\\\\]\\\\(javascript\\\\:alert\\\\(1\\\\)\\\\)'
    """
    return markdown_escape(clean_comment(text))


def classify_comment(text: object, nps: float | None = None) -> tuple[str | None, str | None]:
    """Celebrate or improve? The cue-word rule with the NPS group as tie-breaker (see module notes).

    Parameters
    ----------
    text : str
        The comment.
    nps : float, optional
        The respondent's 0–10 answer.

    Returns
    -------
    (category, basis)
        category ∈ {"celebrate", "improve"}, basis ∈ {"keywords", "nps group"};
        (None, None) for an empty comment.

    Examples
    --------
    >>> classify_comment("Toivoisimme nopeampaa reagointia.", 8)
    ('improve', 'keywords')
    >>> classify_comment("Projektipäällikkö on mukava.", 10)
    ('celebrate', 'nps group')
    """
    s = clean_comment(text)
    if s is None:
        return None, None
    praise, improve = bool(_PRAISE.search(s)), bool(_IMPROVE.search(s))
    if praise != improve:
        return (CELEBRATE if praise else IMPROVE), "keywords"
    promoter = nps is not None and not pd.isna(nps) and float(nps) >= 9
    return (CELEBRATE if promoter else IMPROVE), "nps group"


def visible_roles(responses: pd.DataFrame, *, min_group_size: int = MIN_GROUP_SIZE) -> pd.Series:
    """Which client rows may show their role next to their own score.

    Parameters
    ----------
    responses : DataFrame
        Responses of one account and wave (``side``, ``role``; ``account_id``
        and ``wave`` when present make the groups).
    min_group_size : int
        A role is shown only when at least this many clients of the account
        answered in that role in the wave.

    Returns
    -------
    Series of bool
        Aligned with ``responses``: True where the row's role may be shown
        (team rows are always True; comment tables leave their role out).

    Notes
    -----
    Roles with fewer than ``min_group_size`` client answers are hidden.  When
    the hidden roles of a wave add up to fewer than ``min_group_size``
    answers, the smallest shown roles are hidden too until they do (or all
    are): with two roles, hiding only the small one would let "–" stand for
    it.  A missing role counts as one more group.  The rule is
    :func:`helpers.data.disclosure.complementary_suppression`, as in
    :func:`helpers.report.account.sections.client_groups`.

    Examples
    --------
    >>> r = pd.DataFrame({"side": "client", "role": ["decision-maker"] * 2 + ["user"] * 8})
    >>> bool(visible_roles(r).any())
    False
    """
    show = pd.Series(True, index=responses.index)
    client = responses[responses["side"] == "client"]
    if client.empty:
        return show
    keys = [c for c in ("account_id", "wave") if c in client]
    role = client["role"].astype(object).where(client["role"].notna(), _NO_ROLE)
    client = client.assign(_role=role)
    groups = client.groupby(keys, dropna=False, sort=False) if keys else [((), client)]
    for _, g in groups:
        hidden = complementary_suppression(g["_role"].value_counts(), min_group_size=min_group_size)
        show.loc[g.index[g["_role"].isin(hidden)]] = False
    return show


def _client_rows(responses: pd.DataFrame, *, min_group_size: int, names: Sequence[str] = (),
                 ids: Sequence[str] = ()) -> pd.DataFrame:
    """Client rows with comments cleaned and role → None where it may not be shown (``role_hidden``)."""
    visible = visible_roles(responses, min_group_size=min_group_size)
    d = responses[responses["side"] == "client"]
    visible = visible.reindex(d.index, fill_value=False).astype(bool)
    return d.assign(role=d["role"].astype(object).where(visible, None), role_hidden=~visible,
                    comment=d["comment"].map(lambda c: clean_comment(c, names=names, ids=ids)))


def client_comments(responses: pd.DataFrame, *, min_group_size: int = MIN_GROUP_SIZE, names: Sequence[str] = (),
                    ids: Sequence[str] = ()) -> pd.DataFrame:
    """Cleaned, classified client comments.

    Parameters
    ----------
    responses : DataFrame
        Responses of one account and wave: side, role, nps, comment.
    min_group_size : int
        A role is shown only when at least this many clients answered in it
        (:func:`helpers.report.comments.visible_roles`); otherwise ``role`` is None and ``role_hidden``
        True.
    names, ids : sequence of str
        People and respondent/response ids to scrub (:func:`clean_comment`).

    Returns
    -------
    DataFrame
        role, role_hidden, nps, nps_group, category, basis, comment — client
        side, non-empty comments only, contacts, ids and known names removed.
        Celebrate sorted by score high → low, improve low → high.
    """
    d = _client_rows(responses, min_group_size=min_group_size, names=names, ids=ids)
    d = d[d["comment"].notna()].copy()
    cats = [classify_comment(c, s) for c, s in zip(d["comment"], d["nps"])]
    d["category"] = [c for c, _ in cats]
    d["basis"] = [b for _, b in cats]
    d["nps_group"] = classify_nps(d["nps"])
    d = d.assign(_key=np.where(d["category"] == CELEBRATE, -d["nps"].fillna(-1), d["nps"].fillna(99)))
    d = d.sort_values(["category", "_key", "comment"], kind="mergesort")
    out = _none_for_missing(d[COMMENT_COLUMNS].reset_index(drop=True), ["role", "nps_group", "category", "basis",
                                                                          "comment"])
    return out.astype({"role_hidden": bool})


def detractor_followups(responses: pd.DataFrame, *, min_group_size: int = MIN_GROUP_SIZE,
                        names: Sequence[str] = (), ids: Sequence[str] = ()) -> pd.DataFrame:
    """Client detractors (NPS 0–6) to follow up: role, score and cleaned comment.

    Parameters
    ----------
    responses : DataFrame
        Responses of one account and wave.
    min_group_size : int
        A role is shown only when at least this many clients answered in it
        (:func:`helpers.report.comments.visible_roles`).

    Returns
    -------
    DataFrame
        role (None when hidden or unknown), role_hidden, nps, comment (None
        when they left none), lowest score first (then by the shown role and
        the comment, so the order does not give a hidden role away).  No
        respondent ids or response ids; contacts and known names scrubbed.
    """
    d = _client_rows(responses, min_group_size=min_group_size, names=names, ids=ids)
    d = d[classify_nps(d["nps"]) == "detractor"]
    d = d.assign(_role=d["role"].fillna(""), _comment=d["comment"].fillna(""))
    d = d.sort_values(["nps", "_role", "_comment"], kind="mergesort")
    out = _none_for_missing(d[["role", "role_hidden", "nps", "comment"]].reset_index(drop=True),
                            ["role", "comment"])
    return out.astype({"role_hidden": bool})


def team_comments(responses: pd.DataFrame, *, min_comment_group_size: int = MIN_COMMENT_GROUP_SIZE,
                  names: Sequence[str] = (), ids: Sequence[str] = ()) -> pd.DataFrame:
    """Team comments, only when enough team members answered to keep them anonymous.

    Parameters
    ----------
    responses : DataFrame
        Responses of one account and wave.
    min_comment_group_size : int
        Smallest team group (responses in the wave) whose comments are shown.

    Returns
    -------
    DataFrame
        comment (cleaned), alphabetical, no role or team; empty when the team
        group is smaller than ``min_comment_group_size``.
    """
    staff = responses[responses["side"] == "staff"]
    if len(staff) < min_comment_group_size:
        return pd.DataFrame({"comment": pd.Series([], dtype=object)})
    c = staff["comment"].map(lambda t: clean_comment(t, names=names, ids=ids)).dropna().sort_values(kind="mergesort")
    return pd.DataFrame({"comment": c.astype(object).to_list()}, dtype=object)


def voice_of_client(
    responses: pd.DataFrame,
    *,
    min_comment_group_size: int = MIN_COMMENT_GROUP_SIZE,
    min_group_size: int = MIN_GROUP_SIZE,
    names: Sequence[str] = (),
    ids: Sequence[str] = (),
) -> dict[str, object]:
    """All comment lists of one account and wave.

    Parameters
    ----------
    responses : DataFrame
        Responses of one account and wave (both sides).
    min_comment_group_size : int
        Threshold for showing team comments.
    min_group_size : int
        The client threshold: a client's role is shown next to their score
        only when at least this many clients answered in that role
        (:func:`helpers.report.comments.visible_roles`); with fewer client
        answers in the wave than this, no score, role or grouping is shown at
        all — only the comments, in alphabetical order (``client_only``).
    names, ids : sequence of str
        People (account owners, contacts) and respondent/response ids to
        scrub from every comment (:func:`clean_comment`).

    Returns
    -------
    dict
        ``celebrate`` and ``improve`` (frames as :func:`client_comments`),
        ``detractors`` (:func:`detractor_followups`), ``client_only`` (comment
        texts alone, used instead of the three when scores may not be shown),
        ``scores_shown`` (bool), ``team`` (:func:`team_comments`), ``team_shown``
        (bool), ``n_staff``, ``n_client`` (responses), ``min_comment_group_size``,
        ``n_client_comments``, ``roles_hidden`` (bool: some listed client's role
        is hidden), ``min_group_size``.
    """
    n_staff = int((responses["side"] == "staff").sum())
    n_client = int((responses["side"] == "client").sum())
    cc = client_comments(responses, min_group_size=min_group_size, names=names, ids=ids)
    detractors = detractor_followups(responses, min_group_size=min_group_size, names=names, ids=ids)
    scores_shown = n_client >= min_group_size
    roles_hidden = bool(cc["role_hidden"].any() or detractors["role_hidden"].any())
    only = pd.DataFrame({"comment": sorted(cc["comment"].dropna())}, dtype=object)
    if not scores_shown:  # too few clients: their comments without score, role or grouping
        cc, detractors = cc.iloc[:0], detractors.iloc[:0]
    else:
        only = only.iloc[:0]
    return {
        "celebrate": cc[cc["category"] == CELEBRATE].reset_index(drop=True),
        "improve": cc[cc["category"] == IMPROVE].reset_index(drop=True),
        "detractors": detractors.reset_index(drop=True),
        "client_only": only,
        "scores_shown": scores_shown,
        "team": team_comments(responses, min_comment_group_size=min_comment_group_size, names=names, ids=ids),
        "team_shown": n_staff >= min_comment_group_size,
        "n_staff": n_staff,
        "n_client": n_client,
        "min_comment_group_size": int(min_comment_group_size),
        "n_client_comments": len(cc) + len(only),
        "roles_hidden": roles_hidden,
        "min_group_size": int(min_group_size),
    }


def comments_table(frame: pd.DataFrame, *, language: str = "en", columns: list[str] | None = None,
                   caption: str | None = None):
    """A comment frame as a table for people: headers and codes in ``language``, every cell escaped.

    Parameters
    ----------
    frame : DataFrame
        From :func:`client_comments`, :func:`detractor_followups` or :func:`team_comments`.
        Rows with ``role_hidden`` show "–" as their role.
    language : {"en", "fi"}
    columns : list of str, optional
        Columns to show (default: role, nps, comment where present); also
        ``category`` (celebrate / improve) and ``nps_group``.
    caption : str, optional
        A line above the table (plain text, escaped).

    Returns
    -------
    helpers.report.formatting.PeopleTable
        Every header and cell HTML-escaped; the score right-aligned as a
        whole number, text left-aligned; the comments marked as data
        (``fk-data``: the respondents' own words, in any language).
        ``.to_html()`` gives the markup.
    """
    check_language(language)
    cols = columns or [c for c in ("role", "nps", "comment") if c in frame]
    d = frame[cols].reset_index(drop=True).copy()
    hidden = (frame["role_hidden"].reset_index(drop=True).astype(bool) if "role_hidden" in frame
              else pd.Series(False, index=d.index))
    for c in ("nps_group", "category", "basis"):
        if c in d:
            d[c] = d[c].map(lambda v: VALUE_TEXT[language].get(v, v) if isinstance(v, str) else v)
    if "role" in d:
        d["role"] = d["role"].map(lambda v: ROLE_TEXT[language].get(v, v) if isinstance(v, str) else v)
        d["role"] = d["role"].astype(object).where(~hidden, HIDDEN_ROLE_TEXT[language])
    kinds = {c: ("count" if c == "nps" else "text") for c in cols}
    return people_table(d, language=language, columns=kinds, page="comments",
                        verbatim=[c for c in cols if c == "comment"], caption=caption)
