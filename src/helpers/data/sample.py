"""Seeded synthetic partnership surveys with planted effects, and realistic raw exports.

:func:`simulate` draws clean tidy frames together with the true parameters
(``truth``), so tests and models can check that the kit recovers what was
planted.  :func:`write_sample_exports` turns one simulation into the messy files
a CX lead really receives: a Finnish Webropol-style client CSV (semicolons,
decimal commas, Finnish dates, one wave in Windows cp1252), a Qualtrics-style
English staff CSV (three header rows, preview rows), an accounts CSV from the
CRM and a touchpoint NPS CSV — plus a handful of deliberately broken rows so the
quarantine has something to show.  The planted effects are documented in
``data/README.md``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from .instrument import Instrument, load_instrument
from .sample_loop import contact_columns, write_outcomes

WAVES = ("2025Q4", "2026Q1", "2026Q2", "2026Q3")
# Outcomes are known for renewals up to this date; later renewals are "active".
OUTCOME_CUTOFF = pd.Timestamp("2026-09-30")
RENEWAL_WINDOW_DAYS = 400          # renewal dates run from the day after the first wave for this many days

BASE_MEANS = {"excitement": 3.6, "dare": 3.3, "professionalism": 4.0, "impact": 3.5, "care": 3.7}
# Planted NPS model (client respondents, on their observed dimension scores).
NPS_INTERCEPT = 7.8
NPS_COEFS = {"excitement": 0.0, "dare": 0.0, "professionalism": 0.0, "impact": 1.0, "care": 1.5}
NPS_ACCOUNT_SD = 0.4
NPS_NOISE_SD = 1.1
# Planted retention model (accounts with a known outcome; account-level true means).
CHURN_INTERCEPT = -1.5
CHURN_COEF_CLIENT_CARE = -1.5      # per point of the client's Care mean above 3.7
CHURN_COEF_CARE_GAP = 1.5          # per point the team rates Care above the client (beyond the usual 0.25)
STAFF_SELF_BIAS = 0.25             # staff rate every dimension this much higher on average
BLIND_SPOT_SHARE = 0.2             # share of accounts with an extra Care blind spot of +0.8

COMPANIES = [
    "Pohjolan Energia", "Mäkelä Rakennus", "Åbo Logistik", "Järvi-Suomen Vesi", "Kärkkäinen Retail",
    "Nordic Freight", "Helsingin Sähköverkko", "Sävel Media", "Lähi-Tapiola Kiinteistöt", "Öljyhuolto Rönkä",
    "Arctic Foods", "Kuopion Kaupunki", "Västra Nyland Hälsa", "Tampere Tech", "Oulun Satama",
    "Itä-Häme Puu", "Baltic Finance", "Pirkan Apteekit", "Metsä & Meri", "Keski-Uusimaan Koulut",
    "Lumo Insurance", "Sata-Häme Kuljetus", "Ruska Hotels", "Vaasan Tuulivoima", "Pohjois-Karjalan Osuuskauppa",
    "Saimaa Pharma", "Koskela & Co", "Turun Telakka", "Hämeenlinnan Vesi", "Porvoo Polymers",
]
SEGMENTS = ["Energy", "Public sector", "Retail", "Logistics", "Finance", "Construction", "Health"]
OWNERS = ["Aino Mäkelä", "Jussi Härkönen", "Sofia Åström", "Mikko Lähteenmäki", "Elina Nyström", "Olli Kärkkäinen"]
CLIENT_ROLES_FI = {"decision-maker": "Päättäjä", "user": "Käyttäjä"}
STAFF_ROLES = ["delivery", "sales", "management"]
CLIENT_UNITS = ["Hankinta", "Talous", "Tuotanto", "IT", "Asiakaspalvelu"]
STAFF_TEAMS = ["Team North", "Team South", "Team Digital"]

PRAISE = [
    "Yhteistyö on sujunut erinomaisesti, kiitos koko tiimille!",
    "Asiantunteva ja välittävä porukka, jatketaan samaan malliin.",
    "Great energy in the workshops – keep it up.",
    "Projektipäällikkö on aidosti kiinnostunut menestyksestämme.",
    "Tulokset näkyvät jo liiketoiminnassamme, hienoa työtä.",
]
IMPROVE = [
    "Toivoisimme nopeampaa reagointia yhteydenottoihin.",
    "Raportointi voisi olla selkeämpää ja säännöllisempää.",
    "Tuntuu, ettei tarpeitamme aina kuunnella loppuun asti.",
    "More proactive ideas would be welcome; now we mostly get what we ask for.",
    "Vaihtuvuus tiimissä on ollut suurta, perehdytys jää meidän vastuullemme.",
]
WITH_CONTACT = [
    "Soittakaa minulle: 040 123 4567, niin käydään läpi laskutus.",
    "Palautetta voi lähettää myös suoraan: matti.meikalainen@example.fi",
    "Please call +358 50 765 4321 about the renewal.",
]
STAFF_COMMENTS = [
    "Asiakas arvostaa ennakointia, tätä kannattaa vahvistaa.",
    "We are stretched thin on this account; deadlines slip.",
    "Great collaboration with the client's IT team.",
    "Asiakkaan odotukset eivät ole aina selvät.",
]


@dataclass
class Simulation:
    """A simulated portfolio: tidy frames plus the truth they were drawn from."""

    accounts: pd.DataFrame
    responses: pd.DataFrame  # one row per response, item columns wide
    touchpoints: pd.DataFrame
    latent: pd.DataFrame  # account × wave × side × dimension true means
    truth: dict = field(default_factory=dict)


def _round_scale(x: np.ndarray, lo: int, hi: int) -> np.ndarray:
    return np.clip(np.rint(x), lo, hi)


def simulate(
    *,
    seed: int = 2026,
    n_accounts: int = 60,
    waves: tuple[str, ...] = WAVES,
    client_range: tuple[int, int] = (3, 40),
    staff_range: tuple[int, int] = (2, 15),
    touchpoints_per_month: float = 18.0,
    instrument: str | Instrument | None = None,
) -> Simulation:
    """Draw a synthetic portfolio with planted effects (see module constants).

    Parameters
    ----------
    seed : int
        Random seed; the same seed gives the same data.
    n_accounts : int
        Number of accounts.
    waves : tuple of str
        Quarterly waves, oldest first.
    client_range, staff_range : (int, int)
        Respondents per account and wave (log-uniform between the bounds).
    instrument : path or Instrument, optional
        Items to answer.  Dimensions outside ``BASE_MEANS`` get mean 3.5 and no
        effect on NPS.

    Returns
    -------
    Simulation

    Notes
    -----
    Every draw comes from one generator in a fixed order — accounts, then
    wave by wave each account's client and team answers, then renewal
    outcomes, account master data and touchpoints — so the same seed gives
    the same data, bit for bit.
    """
    scale = _Scale.of(load_instrument(instrument))
    rng = np.random.default_rng(seed)
    portfolio = _draw_portfolio(rng, n_accounts=n_accounts, waves=waves, n_dims=len(scale.dims))
    survey = _draw_survey_waves(rng, scale, portfolio, waves=waves, client_range=client_range,
                                staff_range=staff_range)
    responses = pd.DataFrame(survey.rows)
    p_churn, decided, status = _draw_renewal_outcomes(rng, scale, portfolio, survey)
    accounts = _accounts_frame(rng, portfolio, status)
    touchpoints = _draw_touchpoints(rng, scale, portfolio, survey.client_last, waves=waves,
                                    per_month=touchpoints_per_month)
    truth = {
        "nps_intercept": NPS_INTERCEPT, "nps_coefs": {d: NPS_COEFS.get(d, 0.0) for d in scale.dims},
        "nps_centres": dict(zip(scale.dims, scale.base.tolist())), "nps_account_sd": NPS_ACCOUNT_SD,
        "nps_noise_sd": NPS_NOISE_SD, "churn_intercept": CHURN_INTERCEPT,
        "churn_coef_client_care": CHURN_COEF_CLIENT_CARE, "churn_coef_care_gap": CHURN_COEF_CARE_GAP,
        "staff_self_bias": STAFF_SELF_BIAS,
        "blind_spot_accounts": [a for a, blind in zip(portfolio.ids, portfolio.blind) if blind],
        "p_churn": dict(zip(portfolio.ids, p_churn.round(4).tolist())),
        "outcome_wave": {a: w for a, w, d in zip(portfolio.ids, survey.decision_wave, decided) if d}, "seed": seed,
    }
    return Simulation(accounts=accounts, responses=responses, touchpoints=touchpoints,
                      latent=pd.DataFrame(survey.latent), truth=truth)


@dataclass
class _Scale:
    """The instrument's dimensions and answer scale, and where the planted means sit on it."""

    inst: Instrument
    dims: list[str]
    lo: int
    hi: int
    stretch: float  # flamekit means are written for a 1–5 scale: one point there is this much here
    base: np.ndarray  # each dimension's portfolio mean on this scale

    @classmethod
    def of(cls, inst: Instrument) -> _Scale:
        """The scale of ``inst``, with ``BASE_MEANS`` moved onto it (3.5 for other dimensions)."""
        dims = inst.dimension_ids
        lo, hi = inst.scale_min, inst.scale_max
        stretch = (hi - lo) / 4
        base = np.array([lo + (BASE_MEANS.get(d, 3.5) - 1) * stretch for d in dims])
        return cls(inst=inst, dims=dims, lo=lo, hi=hi, stretch=stretch, base=base)

    def index(self, dimension: str) -> int | None:
        """Position of a dimension, or None when the instrument has no such dimension."""
        return self.dims.index(dimension) if dimension in self.dims else None


@dataclass
class _Portfolio:
    """The accounts and what each brings to every wave: its own effect, blind spot and NPS level."""

    ids: list[str]
    names: list[str]
    start: pd.DatetimeIndex
    renewal: pd.DatetimeIndex
    effect: np.ndarray  # account × dimension, in points of the 1–5 scale
    blind: np.ndarray  # accounts whose team overrates Care by 0.8 more
    nps_u: np.ndarray  # account random intercept of client NPS


def _draw_portfolio(rng: np.random.Generator, *, n_accounts: int, waves: tuple[str, ...], n_dims: int) -> _Portfolio:
    """Account ids and names, contract starts, renewal dates and the accounts' planted effects."""
    ids = [f"A{i:03d}" for i in range(1, n_accounts + 1)]
    names = []
    for i in range(n_accounts):
        nm = COMPANIES[i % len(COMPANIES)]
        names.append(nm if i < len(COMPANIES) else f"{nm} {['Oy', 'Ab', 'Group'][i // len(COMPANIES) % 3]}")
    start = pd.Timestamp("2019-01-01") + pd.to_timedelta(rng.integers(0, 5 * 365, n_accounts), unit="D")
    # Renewals fall after the first wave's answers, within about 13 months: each decided account has answered
    # at least once before its renewal, and its outcome is drawn on the last wave before that date.
    first_end = pd.Period(waves[0], freq="Q").end_time.normalize()
    # scaled from a fixed 0–729 draw, so the random stream (and every answer) does not depend on the window
    renewal_offset = rng.integers(0, 730, n_accounts) * RENEWAL_WINDOW_DAYS // 730
    renewal = first_end + pd.Timedelta(days=1) + pd.to_timedelta(renewal_offset, unit="D")
    shared = rng.normal(0, 0.3, n_accounts)
    effect = shared[:, None] + rng.normal(0, 0.35, (n_accounts, n_dims))
    blind = rng.random(n_accounts) < BLIND_SPOT_SHARE
    nps_u = rng.normal(0, NPS_ACCOUNT_SD, n_accounts)
    return _Portfolio(ids=ids, names=names, start=start, renewal=renewal, effect=effect, blind=blind, nps_u=nps_u)


@dataclass
class _Survey:
    """The answers of every wave, the true means behind them, and the means each renewal was decided on."""

    rows: list[dict]
    latent: list[dict]
    client_last: np.ndarray  # account × dimension true client means in the last wave
    client_decision: np.ndarray  # … in the last wave answered before the renewal date
    staff_decision: np.ndarray
    decision_wave: list[str]


def _draw_survey_waves(rng: np.random.Generator, scale: _Scale, portfolio: _Portfolio, *, waves: tuple[str, ...],
                       client_range: tuple[int, int], staff_range: tuple[int, int]) -> _Survey:
    """Wave by wave, each account's true client and team means (drifting) and its respondents' answers."""
    n_accounts, shape = len(portfolio.ids), (len(portfolio.ids), len(scale.dims))
    survey = _Survey(rows=[], latent=[], client_last=np.zeros(shape), client_decision=np.zeros(shape),
                     staff_decision=np.zeros(shape), decision_wave=[waves[0]] * n_accounts)
    drift = np.zeros(shape)
    care = scale.index("care")
    for w_i, wave in enumerate(waves):
        drift = drift + rng.normal(0, 0.08, drift.shape)
        year, q = int(wave[:4]), int(wave[-1])
        wave_end = pd.Period(f"{year}Q{q}", freq="Q").end_time.normalize()
        for a, account_id in enumerate(portfolio.ids):
            client_lat = scale.base + (portfolio.effect[a] + drift[a]) * scale.stretch
            staff_lat = client_lat + STAFF_SELF_BIAS * scale.stretch
            if portfolio.blind[a] and care is not None:
                staff_lat[care] += 0.8 * scale.stretch
            survey.client_last[a] = client_lat
            if w_i == 0 or wave_end < portfolio.renewal[a]:
                survey.client_decision[a], survey.staff_decision[a] = client_lat, staff_lat
                survey.decision_wave[a] = wave
            for side, lat, n_range in (("client", client_lat, client_range), ("staff", staff_lat, staff_range)):
                survey.latent += [{"account_id": account_id, "wave": wave, "side": side, "dimension": d,
                                   "true_mean": lat[d_i]} for d_i, d in enumerate(scale.dims)]
                survey.rows += _draw_respondents(rng, scale, portfolio, a, side=side, lat=lat, n_range=n_range,
                                                 wave=wave, wave_end=wave_end)
    return survey


def _draw_respondents(rng: np.random.Generator, scale: _Scale, portfolio: _Portfolio, a: int, *, side: str,
                      lat: np.ndarray, n_range: tuple[int, int], wave: str, wave_end: pd.Timestamp) -> list[dict]:
    """One account's respondents on one side in one wave: when they answered, their items, NPS and comment."""
    account_id = portfolio.ids[a]
    nlo, nhi = n_range
    n = int(np.exp(rng.uniform(np.log(nlo), np.log(nhi + 1))))
    n = max(nlo, min(nhi, n))
    person = lat + rng.normal(0, 0.5 * scale.stretch, (n, len(scale.dims)))
    rows = []
    for r in range(n):
        row = {"response_id": f"{side[0].upper()}-{wave}-{account_id}-{r + 1:03d}",
               "account_id": account_id, "side": side, "wave": wave,
               "submitted_at": wave_end - pd.Timedelta(days=int(rng.integers(1, 28)),
                                                       minutes=int(rng.integers(0, 600)))}
        obs = _draw_item_answers(rng, scale, person[r], row)
        centred = np.nan_to_num(obs - scale.base, nan=0.0) / scale.stretch
        if side == "client":
            lin = NPS_INTERCEPT + sum(NPS_COEFS.get(d, 0.0) * centred[i] for i, d in enumerate(scale.dims))
            lin += portfolio.nps_u[a] + rng.normal(0, NPS_NOISE_SD)
            row["role"] = "decision-maker" if rng.random() < 0.25 else "user"
            row["team"] = CLIENT_UNITS[int(rng.integers(len(CLIENT_UNITS)))]
            row["respondent_id"] = f"P-{account_id}-{r + 1:03d}"
        else:
            lin = 8.0 + 0.8 * centred[0] + rng.normal(0, 1.2)
            row["role"] = STAFF_ROLES[int(rng.integers(len(STAFF_ROLES)))]
            row["team"] = STAFF_TEAMS[a % len(STAFF_TEAMS)]
            row["respondent_id"] = None
        row["nps"] = float(np.clip(np.rint(lin), 0, 10))
        row["comment"] = _comment(rng, side, row["nps"])
        rows.append(row)
    return rows


def _draw_item_answers(rng: np.random.Generator, scale: _Scale, person: np.ndarray, row: dict) -> np.ndarray:
    """One respondent's item answers into ``row`` (3% "don't know"); their observed mean per dimension."""
    obs = []
    for d_i, d in enumerate(scale.dims):
        its = scale.inst.dimension(d).items
        vals = _round_scale(person[d_i] + rng.normal(0, 0.55 * scale.stretch, len(its)), scale.lo, scale.hi)
        dk = rng.random(len(its)) < 0.03
        vals = np.where(dk, np.nan, vals)
        for it, v in zip(its, vals):
            row[it.id] = v
        obs.append(np.nanmean(vals) if (~np.isnan(vals)).sum() else np.nan)
    return np.array(obs)


def _draw_renewal_outcomes(rng: np.random.Generator, scale: _Scale, portfolio: _Portfolio,
                           survey: _Survey) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Churn probability from the true means of the last wave before renewal; whether decided; the status."""
    n_accounts = len(portfolio.ids)
    care = scale.index("care")
    gap = np.zeros(n_accounts) if care is None else \
        (survey.staff_decision[:, care] - survey.client_decision[:, care]) / scale.stretch
    client_care = (np.zeros(n_accounts) if care is None
                   else (survey.client_decision[:, care] - scale.base[care]) / scale.stretch)
    logit = CHURN_INTERCEPT + CHURN_COEF_CLIENT_CARE * client_care + CHURN_COEF_CARE_GAP * (gap - STAFF_SELF_BIAS)
    p_churn = 1 / (1 + np.exp(-logit))
    churned = rng.random(n_accounts) < p_churn
    decided = portfolio.renewal <= OUTCOME_CUTOFF
    status = np.where(~decided, "active", np.where(churned, "churned", "renewed"))
    return p_churn, decided, status


def _accounts_frame(rng: np.random.Generator, portfolio: _Portfolio, status: np.ndarray) -> pd.DataFrame:
    """The CRM's account table: segment, owner, contract dates, status and annual value."""
    n_accounts = len(portfolio.ids)
    return pd.DataFrame({
        "account_id": portfolio.ids, "name": portfolio.names,
        "segment": [SEGMENTS[i % len(SEGMENTS)] for i in range(n_accounts)],
        "owner": [OWNERS[int(i)] for i in rng.integers(0, len(OWNERS), n_accounts)],
        "contract_start": portfolio.start.date, "renewal_date": portfolio.renewal.date, "status": status,
        "annual_value": np.round(np.exp(rng.uniform(np.log(20_000), np.log(800_000), n_accounts)), -2),
    })


def _draw_touchpoints(rng: np.random.Generator, scale: _Scale, portfolio: _Portfolio, client_last: np.ndarray, *,
                      waves: tuple[str, ...], per_month: float) -> pd.DataFrame:
    """Monthly transactional NPS after service visits, driven by the last wave's Professionalism and Care."""
    months = pd.period_range(pd.Period(waves[0], freq="Q").start_time, pd.Period(waves[-1], freq="Q").end_time,
                             freq="M")
    prof, care = scale.index("professionalism"), scale.index("care")
    prof = 0 if prof is None else prof  # the first dimension stands in for Professionalism
    frames = []
    for a, account_id in enumerate(portfolio.ids):
        k = rng.poisson(per_month, len(months))
        total = int(k.sum())
        if not total:
            continue
        month_start = np.repeat(months.start_time.values, k)
        visit = pd.to_datetime(month_start) + pd.to_timedelta(rng.uniform(0, 27 * 24 * 60, total), unit="min")
        q_lat = client_last[a]
        lin = 7.4 + 1.2 * (q_lat[prof] - scale.base[prof]) / scale.stretch + rng.normal(0, 1.6, total)
        if care is not None:
            lin += 0.8 * (q_lat[care] - scale.base[care]) / scale.stretch
        frames.append(pd.DataFrame({
            "account_id": account_id, "visit_at": visit,
            "answered_at": visit + pd.to_timedelta(120 + rng.integers(0, 240, total), unit="min"),
            "score": np.clip(np.rint(lin), 0, 10).astype(int),
        }))
    if not frames:
        return pd.DataFrame(columns=["account_id", "visit_at", "answered_at", "score"])
    return pd.concat(frames, ignore_index=True)


def _comment(rng: np.random.Generator, side: str, score: float) -> str | None:
    if rng.random() < 0.55:
        return None
    if side == "staff":
        return STAFF_COMMENTS[int(rng.integers(len(STAFF_COMMENTS)))]
    if rng.random() < 0.04:
        return WITH_CONTACT[int(rng.integers(len(WITH_CONTACT)))]
    pool = PRAISE if score >= 9 else IMPROVE if score <= 6 else PRAISE + IMPROVE
    return pool[int(rng.integers(len(pool)))]


# ---------------------------------------------------------------------------
# Raw exports
# ---------------------------------------------------------------------------
def _fi_number(v: float) -> str:
    if pd.isna(v):
        return ""
    return (f"{v:.1f}" if v % 1 else f"{int(v)}").replace(".", ",")


def write_sample_exports(out: str | Path, *, seed: int = 2026, n_accounts: int = 60,
                         instrument: str | Instrument | None = None) -> dict[str, list[Path]]:
    """Write the sample exports (and a mapping file) into ``out``.

    Returns
    -------
    dict
        kind → list of written files.
    """
    inst = load_instrument(instrument)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    sim = simulate(seed=seed, n_accounts=n_accounts, instrument=inst)
    rng = np.random.default_rng(seed + 1)  # answer durations, apart from the survey's own stream
    loop_rng = np.random.default_rng(seed + 2)  # consent, contacts and follow-up outcomes: their own stream too
    waves = sorted(sim.responses["wave"].unique())
    p = out / "accounts.csv"  # CRM export: comma CSV, UTF-8
    _plant_account_errors(sim.accounts).to_csv(p, index=False, encoding="utf-8")
    files = {"accounts": [p], "client": [], "staff": [], "touchpoints": [], "mapping": [], "followups": []}
    for w_i, wave in enumerate(waves):
        # One wave comes from an older Excel that saves Windows-1252; the others are UTF-8 with BOM.
        files["client"].append(_write_webropol_client_wave(
            out, sim, inst, rng, wave=wave, encoding="cp1252" if w_i == 1 else "utf-8-sig",
            broken_rows=w_i == len(waves) - 1, loop_rng=loop_rng))
    files["mapping"].append(_write_webropol_mapping(out))
    for wave in waves:
        files["staff"].append(_write_qualtrics_staff_wave(out, sim, inst, wave=wave))
    tp = sim.touchpoints.copy()
    # The visit-survey tool numbers its answers: the id the follow-up items and outcomes refer to.
    tp.insert(0, "touchpoint_id", [f"TP-{i:06d}" for i in range(1, len(tp) + 1)])
    visits = tp.copy()
    tp["visit_at"] = tp["visit_at"].dt.strftime("%Y-%m-%d %H:%M")
    tp["answered_at"] = tp["answered_at"].dt.strftime("%Y-%m-%d %H:%M")
    p = out / "touchpoints.csv"
    tp.to_csv(p, index=False, encoding="utf-8")
    files["touchpoints"].append(p)
    last = sim.responses[(sim.responses["side"] == "client") & (sim.responses["wave"] == waves[-1])]
    broken = set(last["response_id"].iloc[[i for i in BROKEN_CLIENT_ROWS if i < len(last)]])
    files["followups"].append(write_outcomes(out, sim.responses, waves=waves, skip=broken, rng=loop_rng,
                                             touchpoints=visits, visit_rng=np.random.default_rng(seed + 3)))
    (out / "waves.txt").write_text("\n".join(waves) + "\n", encoding="utf-8")
    (out / "truth.json").write_text(json.dumps(sim.truth, indent=2, ensure_ascii=False), encoding="utf-8")
    return files


def _write_webropol_client_wave(out: Path, sim: Simulation, inst: Instrument, rng: np.random.Generator, *,
                                wave: str, encoding: str, broken_rows: bool, loop_rng: np.random.Generator) -> Path:
    """One wave's client answers as a Finnish Webropol export: semicolons, decimal commas, Finnish dates, and the
    consent and contact questions at the end (:func:`helpers.data.sample_loop.contact_columns`)."""
    fi_items = {it.id: it.text["client"]["fi"] for it in inst.items}
    nps_fi = inst.texts["nps"]["text"]["client"]["fi"]
    comment_fi = inst.texts["comment"]["text"]["client"]["fi"]
    c = sim.responses[(sim.responses["side"] == "client") & (sim.responses["wave"] == wave)].copy()
    frame = pd.DataFrame({
        "Vastaustunnus": c["response_id"],
        "Asiakasyritys (tunnus)": c["account_id"],
        "Lähetetty": pd.to_datetime(c["submitted_at"]).dt.strftime("%-d.%-m.%Y %H.%M"),
        "Vastaajatunnus": c["respondent_id"],
        "Vastaajan asema": c["role"].map(CLIENT_ROLES_FI),
        "Yksikkö": c["team"],
    })
    for item, text in fi_items.items():
        frame[text] = c[item].map(lambda v: "En osaa sanoa" if pd.isna(v) else _fi_number(v))
    frame[nps_fi] = c["nps"].map(_fi_number)
    frame[comment_fi] = c["comment"]
    frame = frame.join(contact_columns(c, inst, loop_rng))
    frame["Vastauksen kesto (min)"] = [_fi_number(round(float(x), 1)) for x in rng.gamma(4, 1.2, len(frame))]
    frame = frame.reset_index(drop=True)
    if broken_rows:
        owner = sim.accounts.set_index("account_id")["owner"].get(frame.loc[7, "Asiakasyritys (tunnus)"], "")
        frame = _plant_client_errors(frame, fi_items, nps_fi, owner=owner, comment=comment_fi)
    p = out / f"client_{wave}.csv"
    frame.to_csv(p, sep=";", index=False, encoding=encoding)
    return p


def _write_webropol_mapping(out: Path) -> Path:
    """The mapping file that names the Webropol export's Finnish headers for the kit."""
    mapping = {
        "columns": {"Asiakasyritys (tunnus)": "account_id", "Vastaajan asema": "role", "Lähetetty": "submitted_at",
                    "Vastaajatunnus": "respondent_id", "Yksikkö": "team", "Vastauksen kesto (min)": "duration_min"},
        "values": {"role": {"Päättäjä": "decision-maker", "Käyttäjä": "user"}},
    }
    p = out / "mapping_client_fi.yml"
    p.write_text("# Webropol client export (Finnish) → flamekit fields.\n"
                 + yaml.safe_dump(mapping, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return p


def _write_qualtrics_staff_wave(out: Path, sim: Simulation, inst: Instrument, *, wave: str) -> Path:
    """One wave's team answers as an English Qualtrics export: three header rows and two preview rows."""
    en_items = {it.id: it.text["staff"]["en"] for it in inst.items}
    s = sim.responses[(sim.responses["side"] == "staff") & (sim.responses["wave"] == wave)].reset_index(drop=True)
    qids = [f"Q{i + 1}" for i in range(len(en_items))]
    frame = pd.DataFrame({
        "StartDate": pd.to_datetime(s["submitted_at"]) - pd.Timedelta(minutes=6),
        "EndDate": pd.to_datetime(s["submitted_at"]),
        "Status": "IP Address",
        "IPAddress": "10.0.0.1",
        "Progress": 100,
        "RecordedDate": pd.to_datetime(s["submitted_at"]).dt.strftime("%Y-%m-%d %H:%M:%S"),
        "ResponseId": s["response_id"],
        "account": s["account_id"],
        "role": s["role"],
        "team": s["team"],
    })
    for qid, item in zip(qids, en_items):
        frame[qid] = s[item].map(lambda v: "99" if pd.isna(v) else str(int(v)))
    frame["NPS"] = s["nps"].map(lambda v: str(int(v)))
    frame["Q_comment"] = s["comment"]
    # two preview rows from the survey designer testing the link
    prev = frame.iloc[:2].copy()
    prev["Status"] = "Survey Preview"
    prev["ResponseId"] = [f"R_preview_{wave}_{i}" for i in range(len(prev))]
    frame = pd.concat([prev, frame], ignore_index=True)
    p = out / f"staff_{wave}.csv"
    header = _qualtrics_header_rows(frame, inst, dict(zip(qids, en_items.values())))
    pd.concat([header, frame.astype(object)], ignore_index=True).to_csv(p, index=False, encoding="utf-8")
    return p


def _qualtrics_header_rows(frame: pd.DataFrame, inst: Instrument, questions: dict[str, str]) -> pd.DataFrame:
    """Qualtrics' second and third header rows: each column's question text and its import id."""
    texts = {c: c for c in frame.columns}
    texts.update(questions)
    texts["NPS"] = inst.texts["nps"]["text"]["staff"]["en"]
    texts["Q_comment"] = inst.texts["comment"]["text"]["staff"]["en"]
    texts["account"], texts["role"], texts["team"] = "Account ID", "Your role on this account", "Your team"
    import_ids = {c: json.dumps({"ImportId": f"QID{i}"}) for i, c in enumerate(frame.columns)}
    return pd.DataFrame([texts, import_ids])


#: Rows of the last wave's client export that :func:`_plant_client_errors` breaks or supersedes (no follow-up item).
BROKEN_CLIENT_ROWS = (3, 10, 17, 30)


def _plant_client_errors(frame: pd.DataFrame, items: dict[str, str], nps_text: str, *, owner: str = "",
                         comment: str) -> pd.DataFrame:
    """A few broken rows, as real exports have, so the quarantine shows its work.

    Also a comment that names the account's owner (``owner``, in a Finnish case form) with a phone number and an
    e-mail address: the shared reports must show it without any of them.
    """
    f = frame.copy()
    first_item = next(iter(items.values()))
    f.loc[3, first_item] = "6"                          # outside the 1–5 scale
    f.loc[10, nps_text] = "11"                          # NPS out of range
    f.loc[17, "Asiakasyritys (tunnus)"] = "A999"        # unknown account
    dup = f.iloc[[25]].copy()                           # the same response exported twice
    resub = f.iloc[[30]].copy()                         # respondent answered again the next day
    resub["Vastaustunnus"] = resub["Vastaustunnus"] + "-b"
    resub["Lähetetty"] = "30.9.2026 09.15"  # after every original answer of the wave
    future = f.iloc[[12]].copy()                        # a survey tool whose clock was far off
    future["Vastaustunnus"] = future["Vastaustunnus"] + "-c"
    future["Lähetetty"] = "1.1.2099 10.00"
    odd_id = f.iloc[[20]].copy()                        # a response id with a control character pasted in
    odd_id["Vastaustunnus"] = odd_id["Vastaustunnus"] + "\x07"
    for extra in (future, odd_id):
        extra["Vastaajatunnus"] = None  # no respondent: they must not supersede the answers they copy
    # one comment with markup someone pasted in: must stay inert text in every report
    f.loc[5, comment] = 'Hyvä palvelu <script>alert("x")</script> – kiitos!'
    if owner:
        first, _, last = owner.partition(" ")
        mail = f"{first}.{last}".lower().translate(str.maketrans("åäö", "aao"))
        f.loc[7, comment] = (f"{first} {last}in ansiosta asiat hoituvat, ja hänet tavoittaa aina: 040 123 4567 "
                                   f"tai {mail}@example.com. Asiantunteva porukka.")
    return pd.concat([f, dup, resub, future, odd_id], ignore_index=True)


def _plant_account_errors(accounts: pd.DataFrame) -> pd.DataFrame:
    """The CRM export with one name ending in a right-to-left override, which the ingest strips.

    The stored name is the simulated one, so the clean data stay the same.
    """
    out = accounts.copy()
    if len(out) > 7:
        out.loc[7, "name"] = out.loc[7, "name"] + "\u202e"
    return out


def build_sample_store(store: str | Path, *, out: str | Path, seed: int = 2026, n_accounts: int = 60,
                       instrument: str | Instrument | None = None) -> dict:
    """Write the sample exports into ``out`` and ingest them all into ``store``.

    The same steps as ``make demo``; used by tests and benchmarks.

    Returns
    -------
    dict
        file → :class:`helpers.data.ingest.IngestResult`.
    """
    from .ingest import ingest

    files = write_sample_exports(out, seed=seed, n_accounts=n_accounts, instrument=instrument)
    results = {}
    results[str(files["accounts"][0])] = ingest(files["accounts"][0], kind="accounts", store=store,
                                                instrument=instrument)
    mapping = files["mapping"][0]
    for p in files["client"]:
        wave = p.stem.split("_", 1)[1]
        results[str(p)] = ingest(p, kind="client", wave=wave, mapping=mapping, store=store, instrument=instrument)
    for p in files["staff"]:
        wave = p.stem.split("_", 1)[1]
        results[str(p)] = ingest(p, kind="staff", wave=wave, store=store, instrument=instrument)
    results[str(files["touchpoints"][0])] = ingest(files["touchpoints"][0], kind="touchpoints", store=store,
                                                   instrument=instrument)
    return results
