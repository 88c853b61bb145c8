"""The sample's follow-up loop: consent and contacts in the client exports, and a partly filled outcomes file.

Takes the simulated client answers (:func:`helpers.data.sample.simulate`) and
hands on (1) the consent question and the name, e-mail and phone columns of
the Finnish client export, and (2) ``followup_outcomes.xlsx``: the outcomes
owners recorded for some of the last two waves' detractors (and the service
desk for most visit-survey detractors), as the workbook's
*Item*, *Status*, *Contacted at* and *Note* columns, with a few rows that the
ingest must quarantine.

Draws come from their own generators (``seed + 2``; the visits' ``seed + 3``),
so the survey answers and every planted effect stay exactly as they were.  Names are a function of the
respondent id, so a respondent keeps their name from wave to wave.  The
outcomes are drawn independently of later answers: the sample plants **no**
effect of following up (:func:`helpers.stats.loop.later_nps_change` should find
none once the earlier score is held fixed).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

from .followups import item_id

CONSENT_FI = {"request": "Kyllä, ottakaa minuun yhteyttä", "yes": "Kyllä", "no": "Ei"}
SURNAMES = ["Virtanen", "Korhonen", "Mäkinen", "Nieminen", "Mäkelä", "Hämäläinen", "Laine", "Heikkinen",
            "Koskinen", "Järvinen", "Lehtonen", "Saarinen", "Söderberg", "Åkerlund", "Öhman", "Lindqvist"]
FIRST = ["Aino", "Matti", "Liisa", "Jukka", "Sanna", "Pekka", "Elina", "Ville", "Päivi", "Kalle", "Åsa",
         "Erik", "Sofia", "Timo", "Riikka", "Jussi"]
NOTES = ["Soitettu, laskutusvirhe korjataan tällä viikolla.", "Left a voicemail and sent an e-mail.",
         "Tapaaminen sovittu, käydään raportointi läpi.", "Called back: the delay is explained, new contact person.",
         "Ei vastannut, yritetään uudelleen.", "+ lisämyyntimahdollisuus, kerrottu asiakkuusjohtajalle"]


def _pick(respondent_id: object, options: list[str], salt: str) -> str:
    """One of ``options``, the same for the same respondent id every time."""
    digest = hashlib.sha256(f"{salt}:{respondent_id}".encode()).digest()
    return options[digest[0] % len(options)]


def contact_columns(answers: pd.DataFrame, inst, rng: np.random.Generator) -> pd.DataFrame:
    """The consent question and the contact columns for one wave's client answers (headers in Finnish).

    About a third consent, one in twenty asks to be contacted (one in four of
    the detractors); some who answer no still type their e-mail (the ingest
    must drop it); a few leave the question empty.
    """
    texts = inst.contact_questions()
    n = len(answers)
    detractor = answers["nps"].to_numpy() <= 6
    u = rng.random(n)
    p_request = np.where(detractor, 0.25, 0.04)
    consent = np.where(u < p_request, "request", np.where(u < p_request + 0.3, "yes",
                                                           np.where(u < 0.9, "no", "")))
    first = [_pick(r, FIRST, "first") for r in answers["respondent_id"]]
    last = [_pick(r, SURNAMES, "last") for r in answers["respondent_id"]]
    fold = str.maketrans("åäöÅÄÖ", "aaoAAO")
    email = [f"{f}.{s}@{a.lower()}.example.fi".translate(fold).lower() for f, s, a in
             zip(first, last, answers["account_id"])]
    gives_mail = (consent != "no") & (consent != "") & (rng.random(n) < 0.8) | ((consent == "no") & (rng.random(n) < 0.1))
    gives_phone = (consent == "request") & (rng.random(n) < 0.7)
    gives_name = gives_mail | gives_phone
    phone = [f"040 {int(x):03d} {int(y):04d}" for x, y in zip(rng.integers(100, 999, n), rng.integers(0, 9999, n))]
    fi = {k: v[-1] for k, v in texts.items()}  # the last wording is the Finnish one
    return pd.DataFrame({
        fi["consent"]: [CONSENT_FI.get(c, "") for c in consent],
        fi["contact_name"]: np.where(gives_name, [f"{f} {s}" for f, s in zip(first, last)], ""),
        fi["contact_email"]: np.where(gives_mail, email, ""),
        fi["contact_phone"]: np.where(gives_phone, phone, ""),
    }, index=answers.index)


def write_outcomes(out: Path, responses: pd.DataFrame, *, waves: list[str], skip: set[str],
                   rng: np.random.Generator, touchpoints: pd.DataFrame | None = None,
                   visit_rng: np.random.Generator | None = None) -> Path:
    """``followup_outcomes.xlsx``: some of the last two waves' client detractors, partly filled in, and most
    visit-survey detractors since the start of the last-but-one wave.

    Parameters
    ----------
    responses : DataFrame
        The simulated responses (``side``, ``wave``, ``nps``, ``response_id``,
        ``submitted_at``).
    waves : list of str
        Waves oldest first; the last two are followed up.
    skip : set of str
        Response ids the ingest quarantines or supersedes (no item is made for them).
    touchpoints : DataFrame, optional
        The visit surveys (``touchpoint_id``, ``answered_at`` local, ``score``).
    visit_rng : Generator, optional
        The visits' own draws (the survey outcomes stay as they were).

    Notes
    -----
    Of the detractors picked (60%), about half are filled in: most contacted
    within two days, some later, a few not reached; some later resolved (a
    second row with the same item).  Four rows break a rule each: an unknown
    item, a status that is not one, a time in 2099, a time before the answer.

    The service desk calls back visit detractors (:func:`visit_outcomes`):
    about four in five get an outcome, most within the day.
    """
    d = responses[(responses["side"] == "client") & responses["wave"].isin(waves[-2:]) & (responses["nps"] <= 6)
                  & ~responses["response_id"].isin(skip)].sort_values("response_id")
    d = d[rng.random(len(d)) < 0.6]
    rows = []
    for r in d.itertuples():
        item, answered = item_id("survey", r.response_id), pd.Timestamp(r.submitted_at)
        u = rng.random()
        if u < 0.45:  # not filled in yet
            rows.append({"Item": item})
            continue
        late = rng.random() < 0.25
        hours = float(rng.uniform(50, 120) if late else rng.uniform(0.5, 40))
        status = "no-answer" if rng.random() < 0.12 else "contacted"
        when = (answered + pd.Timedelta(hours=hours)).floor("min")
        rows.append({"Item": item, "Status": status, "Contacted at": when,
                     "Note": NOTES[int(rng.integers(len(NOTES)))]})
        if status == "contacted" and rng.random() < 0.4:
            rows.append({"Item": item, "Status": "resolved",
                         "Contacted at": when + pd.Timedelta(days=int(rng.integers(1, 10))),
                         "Note": "Ratkaistu." if rng.random() < 0.5 else "Resolved."})
    if len(d):
        first = d.iloc[0]
        before = (pd.Timestamp(first["submitted_at"]) - pd.Timedelta(days=1)).floor("min")
        rows += [{"Item": "FU-000000000000", "Status": "contacted", "Contacted at": before, "Note": "Wrong id."},
                 {"Item": item_id("survey", first["response_id"]), "Status": "called", "Contacted at": before},
                 {"Item": item_id("survey", first["response_id"]), "Status": "resolved",
                  "Contacted at": pd.Timestamp("2099-01-01 10:00")},
                 {"Item": item_id("survey", first["response_id"]), "Status": "contacted", "Contacted at": before}]
    if touchpoints is not None and len(touchpoints):
        since = pd.Period(waves[-2] if len(waves) > 1 else waves[-1], freq="Q").start_time
        rows += visit_outcomes(touchpoints, since=since, rng=visit_rng or np.random.default_rng(0))
    p = out / "followup_outcomes.xlsx"
    frame = pd.DataFrame(rows, columns=["Item", "Status", "Contacted at", "Note"])
    frame.to_excel(p, index=False, sheet_name="Queue")
    return p


VISIT_NOTES = ["Soitettu, käynnin viivästys selvitetty.", "Called back: the nurse was replaced at short notice.",
               "Uusi aika varattu.", "Sent an apology and a new booking link.", "Ei vastannut, viesti jätetty."]


def visit_outcomes(touchpoints: pd.DataFrame, *, since: pd.Timestamp, rng: np.random.Generator) -> list[dict]:
    """Outcome rows for the visit-survey detractors (0–6) answered since ``since``.

    About 80% are followed up: most (75%) contacted within the day or the
    next, some (15%) after the 48 hours, a few (10%) not reached; a third of
    those reached are later resolved.  The rest are left open.  Drawn apart
    from the survey outcomes and from any later answer: no effect is planted.
    """
    d = touchpoints[(touchpoints["score"] <= 6) & (pd.to_datetime(touchpoints["answered_at"]) >= since)]
    d = d.sort_values("touchpoint_id")
    rows = []
    for r in d.itertuples():
        if rng.random() >= 0.8:
            continue
        item, answered = item_id("touchpoint", r.touchpoint_id), pd.Timestamp(r.answered_at)
        u = rng.random()
        status = "no-answer" if u < 0.10 else "contacted"
        hours = float(rng.uniform(50, 150) if u > 0.85 else rng.uniform(0.5, 36))
        when = (answered + pd.Timedelta(hours=hours)).floor("min")
        rows.append({"Item": item, "Status": status, "Contacted at": when,
                     "Note": VISIT_NOTES[int(rng.integers(len(VISIT_NOTES)))]})
        if status == "contacted" and rng.random() < 1 / 3:
            rows.append({"Item": item, "Status": "resolved", "Contacted at": when + pd.Timedelta(days=int(
                rng.integers(1, 6))), "Note": "Ratkaistu." if rng.random() < 0.5 else "Resolved."})
    return rows
