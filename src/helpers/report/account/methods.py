"""The account report's methods note: formulas, thresholds, versions and the data hash.
"""

from __future__ import annotations

import platform
from functools import lru_cache
from importlib import metadata
from typing import Any

from helpers.data import store as st
from helpers.report.formatting import _num
from helpers.stats import benchmark as bm

from .load import CI, FDR, RWG_STABLE_N, AccountData
from .meeting import equivalence_margin
from .texts import _md


@lru_cache(maxsize=None)
def _version(pkg: str) -> str:
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return "not installed"


def methods_note(account: AccountData) -> dict[str, Any]:
    """How the numbers were made: formulas, thresholds, package versions and the data hash.

    Returns
    -------
    dict
        ``text`` (Markdown in the report's language), ``thresholds``,
        ``versions`` (python and packages), ``data_hash``
        (:func:`helpers.data.store.data_hash`), ``waves`` (oldest first),
        ``instrument``.
    """
    inst = account.instrument
    span = inst.scale_max - inst.scale_min
    strong_at = inst.scale_min + 0.75 * span
    margin = equivalence_margin(inst)
    mq = bm.MIN_ACCOUNTS_FOR_QUARTILES
    thresholds = {"min_group_size": account.min_group_size,
                  "min_comment_group_size": account.min_comment_group_size, "ci": CI, "fdr": FDR,
                  "strong_at": strong_at, "equivalence_margin": margin, "min_items": inst.min_items,
                  "benchmark_min_accounts": account.min_group_size,
                  "benchmark_min_respondents": account.min_group_size,
                  "benchmark_min_accounts_for_quartiles": mq, "rwg_min_n": account.min_group_size,
                  "rwg_stable_n": RWG_STABLE_N}
    versions = {"python": platform.python_version(),
                **{p: _version(p) for p in ("flamekit", "numpy", "pandas", "scipy", "statsmodels", "matplotlib",
                                            "seaborn", "duckdb")}}
    digest = st.data_hash(store=account.store)
    lang = account.language
    v = ", ".join(f"{k} {val}" for k, val in versions.items())
    k, kc = account.min_group_size, account.min_comment_group_size
    sa, mg = _num(strong_at, lang, 1), _num(margin, lang, 2)
    q, waves = _num(FDR, lang, 2), ", ".join(_md(w) for w in account.waves)
    mg1 = _num(margin, lang, 1)
    if lang == "fi":
        items = [
            f"**Ulottuvuuspisteet**: vastaajan pistemäärä on hänen vastaamiensa väittämien keskiarvo (vähintään "
            f"{inst.min_items} väittämää); keskiarvon 95 %:n luottamusväli x̄ ± t·s/√n.",
            "**NPS** = % suosittelijat (9–10) − % arvostelijat (0–6); 95 %:n luottamusväli korjatulla "
            "Wald-menetelmällä (Rocks 2016). Muutoksen luottamusväli: kahden riippumattoman NPS:n varianssien "
            "summa, keskitettynä korjattuun muutokseen (siksi väli ei ole aina symmetrinen raakamuutoksen "
            "ympärillä).",
            "**Näkemysero** = asiakkaan keskiarvo − tiimin keskiarvo; Welchin t-testi ja luottamusväli (Welch 1947), "
            "Hedgesin g pienen otoksen korjauksella J = 1 − 3/(4N − 9) (Hedges & Olkin 1985). Raportin "
            f"ulottuvuuksien p-arvot korjataan yhdessä Benjamini–Hochberg-menetelmällä (1995), q = {q}.",
            f"**Tulkinta**: sokea piste (tiimi korkeammalla) tai piilevä vahvuus (asiakas korkeammalla) vain, kun "
            f"korjattu p < {q} ja luottamusväli ei sisällä nollaa. Muuten \"yhteneväinen\": vahva, kun asiakkaan "
            f"keskiarvo ≥ {sa}. Näyttö on \"selvä\", kun luottamusväli on kokonaan välillä ±{mg}; \"alustava\", "
            f"kun ero näkyy vain ilman korjausta; muuten \"epäselvä\". Alle {k} vastauksen ryhmiä ei luokitella.",
            "**Yksimielisyys** r_wg(J) (James, Demaree & Wolf 1984); ≥ 0,70 on tavallinen raja. Näytetään vain "
            f"vähintään {k} vastauksen ryhmille; alle noin {RWG_STABLE_N} vastauksen ryhmissä se on epävakaa "
            "(Dunlap, Burke & Smith-Crowe 2003).",
            "**Vertailu**: asiakkaan sija muiden asiakkaiden keskiarvojen joukossa samalla kierroksella (oma arvo "
            f"ei ole vertailujoukossa). Mukana asiakkaat, joilla on vähintään {k} asiakasvastausta; näytetään vain, "
            f"kun tällaisia asiakkaita on vähintään {k}. Salkun mediaani ja kvartiilit näytetään vasta "
            f"vähintään {mq} asiakkaasta, pyöristettyinä (keskiarvot 0,1 pisteeseen, NPS kokonaisiin "
            "pisteisiin), jottei yksittäisen asiakkaan arvoa voi päätellä. Tietokannasta luetaan vain "
            "asiakaskohtaiset keskiarvot.",
            f"**Seuraavaan tapaamiseen**: kehityskohde on ulottuvuus, jolla on selvä sokea piste tai jonka "
            f"asiakkaiden keskiarvo on vähintään {mg1} pistettä alle asiakkuuden ulottuvuuksien mediaanin; "
            f"vahvuus vastaavasti (selvä piilevä vahvuus tai vähintään {mg1} pistettä yli mediaanin). Tasoissa "
            f"olevat ulottuvuudet nimetään yhdessä, kaikkia ulottuvuuksia ei nimetä koskaan, eikä mitään nimetä "
            f"alle {k} asiakasvastauksesta.",
            "**Kommentit**: yhteystiedot poistetaan; luokittelu vihjesanoilla ja NPS-ryhmällä "
            "(ks. helpers.comments).",
            f"**Tietosuoja**: tiimin tulokset alle {k} vastauksesta piilotetaan; samoin asiakkaiden alaryhmät alle "
            f"{k} vastauksesta; tiimin kommentit näytetään vasta vähintään {kc} tiimin vastauksesta. Asiakkaan "
            f"rooli näytetään kommentin ja pisteiden vieressä vain, jos roolissa vastasi vähintään {k} "
            "asiakasta.",
            f"**Aineisto**: kierrokset {waves} (aikajärjestyksessä); aineiston tiiviste {digest}; kysely "
            f"\"{_md(inst.name)}\".",
            f"**Ohjelmistot**: {v}.",
        ]
    else:
        items = [
            f"**Dimension scores**: a respondent's score is the mean of the items they answered (at least "
            f"{inst.min_items}); means with a 95% Student-t interval x̄ ± t·s/√n.",
            "**NPS** = % promoters (9–10) − % detractors (0–6); 95% adjusted-Wald interval (Rocks 2016). The "
            "change between waves treats them as independent samples and adds the two variances; its interval is "
            "centred on the adjusted change, so it need not be symmetric around the raw change.",
            "**Perception gap** = client mean − team mean; Welch t-test and interval (Welch 1947); Hedges' g with "
            "the small-sample correction J = 1 − 3/(4N − 9) (Hedges & Olkin 1985). The p-values of the report's "
            f"dimension tests are adjusted together with Benjamini–Hochberg (1995), q = {q}.",
            f"**Reading**: blind spot (team higher) or hidden strength (client higher) only when the adjusted "
            f"p < {q} and the CI excludes 0. Otherwise \"aligned\": strong when the client mean ≥ {sa}. Evidence "
            f"is \"clear\" when the CI lies within ±{mg}; \"tentative\" when a gap shows only before the "
            f"correction; otherwise \"unclear\". Groups under {k} answers are not labelled.",
            "**Agreement** r_wg(J) (James, Demaree & Wolf 1984); ≥ 0.70 is the usual threshold. Shown only for "
            f"groups of at least {k} answers; below about {RWG_STABLE_N} answers it is unstable (Dunlap, Burke & "
            "Smith-Crowe 2003).",
            "**Benchmark**: the account's percentile among the other accounts' means in the same wave (its own "
            f"value is left out of the reference). Accounts need at least {k} client answers to count, and a "
            f"percentile is shown only when at least {k} such accounts exist. The portfolio median and quartiles "
            f"are shown only from {mq} accounts and rounded (means to 0.1, NPS to whole points), so that no single "
            "account's value can be read from them. Only one aggregate per account is read from the database.",
            f"**For the next meeting**: a focus area is a dimension with a clear blind spot or a client mean at "
            f"least {mg1} points below the account's median dimension; a strength, one with a clear hidden "
            f"strength or at least {mg1} points above it. Tied dimensions are named together, never every "
            f"dimension is named, and nothing is ranked from fewer than {k} client answers.",
            "**Comments**: contacts removed; classified with cue words and the NPS group (see helpers.comments).",
            f"**Privacy**: team results from fewer than {k} answers are hidden; client sub-groups under {k} are "
            f"hidden; team comments are shown only from {kc} team answers. A client's role is shown next to their "
            f"comment and score only when at least {k} clients answered in that role.",
            f"**Data**: waves {waves} (oldest first); data hash {digest}; instrument \"{_md(inst.name)}\".",
            f"**Software**: {v}.",
        ]
    text = "\n".join(f"- {item}" for item in items)
    return {"text": text.strip(), "thresholds": thresholds, "versions": versions, "data_hash": digest,
            "waves": list(account.waves), "instrument": inst.name}
