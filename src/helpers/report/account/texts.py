"""Words of the account report, in English and Finnish: sentences, notes and table headers.
"""

from __future__ import annotations

from typing import Any

from helpers.report import comments as cm

_md = cm.markdown_escape

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "## {name} ({account_id}) · {wave}",
        "nps_sentence": "Client NPS is {nps} (95% CI {lo} to {hi}, n = {n}){change}{gap}{few}.",
        "no_client": "No client answered in {wave}{gap}.",
        "first_wave": ", the first survey wave for this account",
        "up": ", up {x} points from {prev_nps} in {prev} (n = {prev_n}; 95% CI of the change {lo} to {hi})",
        "down": ", down {x} points from {prev_nps} in {prev} (n = {prev_n}; 95% CI of the change {lo} to {hi})",
        "no_change": ", no clear change from {prev_nps} in {prev} (n = {prev_n}; change {x}, 95% CI {lo} to {hi})",
        "gap_hidden": "; the team's view is hidden (too few team answers to show)",
        "gap_blind": "; the clearest blind spot is {dim}: the team rates itself {x} points higher than the client",
        "gap_hidden_strength": "; the client rates {dim} {x} points higher than the team does (a hidden strength)",
        "gap_possible_blind": "; a possible blind spot on {dim}: the team rates itself {x} points higher than the "
                              "client, not confirmed once the report's {m} comparisons are allowed for",
        "gap_possible_hidden": "; a possible hidden strength on {dim}: the client rates it {x} points higher than "
                               "the team does, not confirmed once the report's {m} comparisons are allowed for",
        "nps_hidden": "Client NPS is not shown: {why}{gap}.",
        "why_few": "{n} clients answered, fewer than the {k} a figure needs",
        "why_difference": "beside an earlier wave's published figure it would give away the answers of the "
                          "clients who joined or left since (fewer than {k} people)",
        "gap_few": "; too few client answers to read perception gaps",
        "gap_none": "; no clear gap between the client's and the team's view",
        "few": " (only {n} client answers, so read the numbers as indications)",
        "facts": "- Answers: {n_client} client, {n_staff} team\n- Client NPS: {nps} (95% CI {lo} to {hi})",
        "facts_hidden": "- Answers: {n_client} client, {n_staff} team\n- Client NPS: not shown",
        "comments_without_scores": "{n} clients answered, fewer than {k}: their comments are listed without "
                                   "scores, roles or grouping.",
        "comments_listed_above": "Too few clients answered to group their comments: they are all listed above.",
        "note_staff_none": "No team member answered in {wave}: the report shows the client's view only.",
        "note_staff_hidden": "Team results are hidden: {n} team members answered, fewer than {k} "
                             "(anonymity threshold).",
        "note_staff_dims": "Team results for {dims} are hidden (fewer than {k} answers).",
        "note_client_few": "Client results are hidden: {n} clients answered, fewer than {k}. Their comments are "
                           "listed without scores or roles.",
        "note_difference": "{side} results for {what} are hidden: beside an earlier wave's published results they "
                           "would give away the answers of the fewer than {k} people who joined or left since.",
        "note_client_none": "No client answered in {wave}.",
        "note_groups": "Client groups with fewer than {k} answers are hidden (and, where needed, one more group, "
                       "so a hidden group cannot be worked out from the total).",
        "note_team_comments": "Team comments are not shown: {n} team members answered, fewer than {k}.",
        "note_roles": "A client's role is shown as “–” next to their comment and score when fewer than {k} "
                      "clients answered in that role (and, where needed, in one more role), so no score can be "
                      "tied to a small group.",
        "note_rwg": "Agreement r_wg is shown only for groups of at least {k} answers; below about {m} answers "
                    "({groups}) it is unstable, so read it as a rough indication.",
        "note_benchmark": "No benchmark for {measures}: fewer than {k} other accounts with at least {k} client "
                          "answers.",
        "note_quartiles": "The portfolio median and middle half are shown only when at least {m} other accounts "
                          "compare (here {n}), and rounded, so that no single account's value can be read from "
                          "them.",
        "empty": "None in {wave}.",
        "focus": "**Focus areas**",
        "strengths": "**Strengths to build on**",
        "no_focus": "No client scores in this wave, so no focus areas can be named.",
        "too_few_rank": "Too few answers to rank the dimensions: {n} clients answered, fewer than {k}, so no "
                        "focus areas or strengths are named.",
        "hidden_rank": "The client results of this wave are hidden (see the notes above), so no focus areas or "
                       "strengths are named.",
        "none_stand_out": "No dimension stands out: every client mean is within {mg} points of the account's "
                          "median dimension ({med}) and no gap between the client's and the team's view is clear.",
        "r_blind": "Blind spot: the team rates itself {x} points higher than the client (clear).",
        "r_low": "Client mean {m} (n = {n}), {d} points below the account's median dimension ({med}).",
        "r_low_tentative": "Client mean {m} (n = {n}), {d} points below the account's median dimension ({med}); "
                           "the team may rate itself higher ({x} points), not confirmed.",
        "r_hidden": "Hidden strength: the client rates this {x} points higher than the team does (clear).",
        "r_high": "Client mean {m} (n = {n}), {d} points above the account's median dimension ({med}).",
        "tied": " Tied with {dims}.",
        "alt_flame": "flame chart: the client's and the team's mean on each dimension",
        "alt_dots": "dot plot: dimension means with 95% confidence intervals, client and team",
        "alt_gaps": "gap chart: client minus team on each dimension with 95% confidence intervals",
        "alt_trend": "trend chart: dimension means and client NPS over the survey waves",
        "nps": "NPS",
    },
    "fi": {
        "title": "## {name} ({account_id}) · {wave}",
        "nps_sentence": "Asiakkaiden NPS on {nps} (95 %:n luottamusväli {lo}…{hi}, n = {n}){change}{gap}{few}.",
        "no_client": "Kierroksella {wave} ei ole asiakasvastauksia{gap}.",
        "first_wave": ", ensimmäinen kyselykierros tälle asiakkaalle",
        "up": ", nousua {x} pistettä kierroksen {prev} lukemasta {prev_nps} (n = {prev_n}; muutoksen 95 %:n "
              "luottamusväli {lo}…{hi})",
        "down": ", laskua {x} pistettä kierroksen {prev} lukemasta {prev_nps} (n = {prev_n}; muutoksen 95 %:n "
                "luottamusväli {lo}…{hi})",
        "no_change": ", ei selvää muutosta kierroksen {prev} lukemasta {prev_nps} (n = {prev_n}; muutos {x}, "
                     "95 %:n luottamusväli {lo}…{hi})",
        "gap_hidden": "; tiimin näkemys on piilotettu (liian vähän tiimin vastauksia näytettäväksi)",
        "gap_possible_blind": "; mahdollinen sokea piste ulottuvuudessa {dim}: tiimi arvioi itsensä {x} pistettä "
                              "korkeammalle kuin asiakas, mutta ero ei vahvistu, kun raportin {m} vertailua "
                              "huomioidaan",
        "gap_possible_hidden": "; mahdollinen piilevä vahvuus ulottuvuudessa {dim}: asiakas arvioi sen {x} "
                               "pistettä korkeammalle kuin tiimi, mutta ero ei vahvistu, kun raportin {m} vertailua "
                               "huomioidaan",
        "nps_hidden": "Asiakkaiden NPS:ää ei näytetä: {why}{gap}.",
        "why_few": "asiakkaita vastasi {n}, vähemmän kuin luvun näyttämiseen tarvittavat {k}",
        "why_difference": "aiemman kierroksen julkaistun luvun rinnalla se paljastaisi sen jälkeen mukaan tulleiden "
                          "tai poistuneiden asiakkaiden vastaukset (alle {k} henkeä)",
        "gap_blind": "; selvin sokea piste on {dim}: tiimi arvioi itsensä {x} pistettä korkeammalle kuin asiakas",
        "gap_hidden_strength": "; asiakas arvioi ulottuvuuden {dim} {x} pistettä korkeammalle kuin tiimi "
                               "(piilevä vahvuus)",
        "gap_few": "; asiakasvastauksia on liian vähän näkemyserojen arviointiin",
        "gap_none": "; asiakkaan ja tiimin näkemysten välillä ei ole selvää eroa",
        "few": " (vain {n} asiakasvastausta, joten luvut ovat suuntaa antavia)",
        "facts": "- Vastauksia: asiakkaat {n_client}, tiimi {n_staff}\n"
                 "- Asiakkaiden NPS: {nps} (95 %:n luottamusväli {lo}…{hi})",
        "facts_hidden": "- Vastauksia: asiakkaat {n_client}, tiimi {n_staff}\n- Asiakkaiden NPS: ei näytetä",
        "comments_without_scores": "Asiakkaita vastasi {n}, alle {k}: heidän kommenttinsa näytetään ilman "
                                   "pisteitä, rooleja ja ryhmittelyä.",
        "comments_listed_above": "Liian vähän asiakkaita vastasi kommenttien ryhmittelyyn: kaikki kommentit "
                                 "ovat yllä.",
        "note_staff_none": "Kierroksella {wave} yksikään tiimin jäsen ei vastannut: raportti näyttää vain "
                           "asiakkaan näkemyksen.",
        "note_staff_hidden": "Tiimin tulokset on piilotettu: vastaajia oli {n}, alle {k} (anonymiteettiraja).",
        "note_staff_dims": "Tiimin tulokset ulottuvuuksista {dims} on piilotettu (alle {k} vastausta).",
        "note_client_few": "Asiakkaiden tulokset on piilotettu: vastaajia oli {n}, alle {k}. Heidän "
                           "kommenttinsa näytetään ilman pisteitä ja rooleja.",
        "note_difference": "{side}: tulokset ({what}) on piilotettu: aiemman kierroksen julkaistujen tulosten "
                           "rinnalla ne paljastaisivat sen jälkeen mukaan tulleiden tai poistuneiden alle {k} "
                           "henkilön vastaukset.",
        "note_client_none": "Kierroksella {wave} ei ole asiakasvastauksia.",
        "note_groups": "Asiakasryhmät, joissa on alle {k} vastausta, on piilotettu (tarvittaessa myös yksi ryhmä "
                       "lisää, jottei piilotettua ryhmää voi laskea kokonaisluvusta).",
        "note_team_comments": "Tiimin kommentteja ei näytetä: vastaajia oli {n}, alle {k}.",
        "note_roles": "Asiakkaan rooli näkyy kommentin ja pisteiden vieressä merkkinä ”–”, jos roolissa "
                      "vastasi alle {k} asiakasta (tarvittaessa myös yhdessä roolissa lisää), jottei kenenkään "
                      "pisteitä voi yhdistää pieneen ryhmään.",
        "note_rwg": "Yksimielisyys r_wg näytetään vain vähintään {k} vastauksen ryhmille; alle noin {m} "
                    "vastauksen ryhmissä ({groups}) se on epävakaa, joten lue se karkeana suuntana.",
        "note_benchmark": "Vertailua ei näytetä mittareille {measures}: alle {k} muuta asiakasta, joilla on "
                          "vähintään {k} asiakasvastausta.",
        "note_quartiles": "Salkun mediaani ja keskimmäinen puolikas näytetään vain, kun vertailuasiakkaita on "
                          "vähintään {m} (nyt {n}), ja pyöristettyinä, jottei yksittäisen asiakkaan arvoa voi "
                          "päätellä niistä.",
        "empty": "Ei yhtään kierroksella {wave}.",
        "focus": "**Kehityskohteet**",
        "strengths": "**Vahvuudet, joille rakentaa**",
        "no_focus": "Tällä kierroksella ei ole asiakasvastauksia, joten kehityskohteita ei voi nimetä.",
        "too_few_rank": "Liian vähän vastauksia ulottuvuuksien järjestykseen asettamiseen: asiakkaita vastasi {n}, "
                        "alle {k}, joten kehityskohteita tai vahvuuksia ei nimetä.",
        "hidden_rank": "Tämän kierroksen asiakastulokset on piilotettu (ks. huomautukset yllä), joten "
                       "kehityskohteita tai vahvuuksia ei nimetä.",
        "none_stand_out": "Mikään ulottuvuus ei erotu: jokainen asiakkaiden keskiarvo on {mg} pisteen sisällä "
                          "asiakkuuden ulottuvuuksien mediaanista ({med}), eikä asiakkaan ja tiimin näkemysten "
                          "välillä ole selvää eroa.",
        "r_blind": "Sokea piste: tiimi arvioi itsensä {x} pistettä korkeammalle kuin asiakas (selvä ero).",
        "r_low": "Asiakkaiden keskiarvo {m} (n = {n}), {d} pistettä alle asiakkuuden ulottuvuuksien mediaanin "
                 "({med}).",
        "r_low_tentative": "Asiakkaiden keskiarvo {m} (n = {n}), {d} pistettä alle asiakkuuden ulottuvuuksien "
                           "mediaanin ({med}); tiimi saattaa arvioida itsensä korkeammalle ({x} pistettä), ei "
                           "vahvistettu.",
        "r_hidden": "Piilevä vahvuus: asiakas arvioi tämän {x} pistettä korkeammalle kuin tiimi (selvä ero).",
        "r_high": "Asiakkaiden keskiarvo {m} (n = {n}), {d} pistettä yli asiakkuuden ulottuvuuksien mediaanin "
                  "({med}).",
        "tied": " Tasoissa: {dims}.",
        "alt_flame": "flame chart – liekkikaavio: asiakkaan ja tiimin keskiarvo kullakin ulottuvuudella",
        "alt_dots": "pistekaavio: ulottuvuuksien keskiarvot ja 95 %:n luottamusvälit, asiakas ja tiimi",
        "alt_gaps": "erokaavio: asiakas miinus tiimi kullakin ulottuvuudella ja 95 %:n luottamusvälit",
        "alt_trend": "kehityskaavio: ulottuvuuksien keskiarvot ja asiakkaiden NPS kyselykierroksittain",
        "nps": "NPS",
    },
}

#: The methods note, one point per list item: formulas, thresholds, versions and the data hash.
#: Placeholders are filled by :func:`helpers.report.account.methods.methods_note`.
METHODS: dict[str, list[str]] = {
    "en": [
        "**Dimension scores**: a respondent's score is the mean of the items they answered (at least "
        "{min_items}); means with a 95% Student-t interval x̄ ± t·s/√n, cut at the ends of the answer scale.",
        "**NPS** = % promoters (9–10) − % detractors (0–6); 95% adjusted-Wald interval (Rocks 2016). The "
        "change between waves treats them as independent samples and adds the two variances; its interval is "
        "centred on the adjusted change, so it need not be symmetric around the raw change.",
        "**Perception gap** = client mean − team mean; Welch t-test and interval (Welch 1947); Hedges' g with "
        "the small-sample correction J = 1 − 3/(4N − 9) (Hedges & Olkin 1985). The p-values of the report's "
        "dimension tests are adjusted together with Benjamini–Hochberg (1995), q = {q}.",
        "**Reading**, in three steps that agree with the interval: a clear blind spot (team higher) or hidden "
        "strength (client higher) when the adjusted p < {q} and the CI excludes 0; a possible one when the CI "
        "excludes 0 but the gap does not hold after the correction; otherwise no clear gap — \"aligned\" only "
        "when the whole CI lies within ±{margin} (strong when the client mean ≥ {strong_at}). No gap is tested "
        "when one side's answers are all the same (a zero variance makes any test overconfident).",
        "**Agreement** r_wg(J) (James, Demaree & Wolf 1984); ≥ 0.70 is the usual threshold. Shown only for "
        "groups of at least {k} answers; below about {rwg_stable_n} answers it is unstable (Dunlap, Burke & "
        "Smith-Crowe 2003).",
        "**Benchmark**: the account's percentile among the other accounts' means in the same wave (its own "
        "value is left out of the reference). Accounts need at least {kf} client answers to count — this one "
        "too, to get a percentile — and a percentile is shown only when at least {kf} such accounts exist. The portfolio median and quartiles "
        "are shown only from {mq} accounts and rounded (means to 0.1, NPS to whole points), so that no single "
        "account's value can be read from them. Only one aggregate per account is read from the database.",
        "**For the next meeting**: a focus area is a dimension with a clear blind spot or a client mean at "
        "least {margin_1} points below the account's median dimension; a strength, one with a clear hidden "
        "strength or at least {margin_1} points above it. Tied dimensions are named together, never every "
        "dimension is named, and nothing is ranked from fewer than {kf} client answers.",
        "**Comments**: e-mail addresses, phone numbers, respondent and response ids, the names of the account "
        "owners and common \"First Last\" names are removed; other names, nicknames and descriptions of "
        "people may remain. Classified with cue words and the NPS group (see helpers.report.comments).",
        "**Privacy and small samples**: no figure from fewer than {reliable} answers (too few for a reliable "
        "figure); no team result from fewer than {k} answers and no client result from fewer than {kcl}; client "
        "sub-groups are hidden below {kcl} answers, with one more where needed so a hidden group cannot be "
        "worked out from the total; a group smaller than twice its threshold in two waves is shown in both only when "
        "the people who answered differ by none or by at least the threshold, so a newcomer's answer cannot be "
        "read off the step between two figures. Team comments are shown only from {kc} team answers; with "
        "fewer than {kcl} client answers, client comments are shown without scores or roles.",
        "**Data**: waves {waves} (oldest first); data hash {digest}; instrument \"{instrument}\".",
        "**Software**: {software}.",
    ],
    "fi": [
        "**Ulottuvuuspisteet**: vastaajan pistemäärä on hänen vastaamiensa väittämien keskiarvo (vähintään "
        "{min_items} väittämää); keskiarvon 95 %:n luottamusväli x̄ ± t·s/√n, rajattuna vastausasteikon päihin.",
        "**NPS** = % suosittelijat (9–10) − % arvostelijat (0–6); 95 %:n luottamusväli korjatulla "
        "Wald-menetelmällä (Rocks 2016). Muutoksen luottamusväli: kahden riippumattoman NPS:n varianssien "
        "summa, keskitettynä korjattuun muutokseen (siksi väli ei ole aina symmetrinen raakamuutoksen "
        "ympärillä).",
        "**Näkemysero** = asiakkaan keskiarvo − tiimin keskiarvo; Welchin t-testi ja luottamusväli (Welch 1947), "
        "Hedgesin g pienen otoksen korjauksella J = 1 − 3/(4N − 9) (Hedges & Olkin 1985). Raportin "
        "ulottuvuuksien p-arvot korjataan yhdessä Benjamini–Hochberg-menetelmällä (1995), q = {q}.",
        "**Tulkinta** kolmessa portaassa, jotka ovat aina sopusoinnussa luottamusvälin kanssa: selvä sokea piste "
        "(tiimi korkeammalla) tai piilevä vahvuus (asiakas korkeammalla), kun korjattu p < {q} ja luottamusväli "
        "ei sisällä nollaa; mahdollinen, kun väli ei sisällä nollaa mutta ero ei vahvistu korjauksen jälkeen; "
        "muuten ei selvää eroa — \"yhteneväinen\" vain, kun koko väli on välillä ±{margin} (vahva, kun "
        "asiakkaan keskiarvo ≥ {strong_at}). Eroa ei testata, jos toisen osapuolen kaikki vastaukset ovat samat "
        "(nollavarianssi tekisi testistä liian varman).",
        "**Yksimielisyys** r_wg(J) (James, Demaree & Wolf 1984); ≥ 0,70 on tavallinen raja. Näytetään vain "
        "vähintään {k} vastauksen ryhmille; alle noin {rwg_stable_n} vastauksen ryhmissä se on epävakaa "
        "(Dunlap, Burke & Smith-Crowe 2003).",
        "**Vertailu**: asiakkaan sija muiden asiakkaiden keskiarvojen joukossa samalla kierroksella (oma arvo "
        "ei ole vertailujoukossa). Mukana asiakkaat, joilla on vähintään {kf} asiakasvastausta (myös tämä "
        "asiakas, saadakseen sijan); näytetään vain, kun tällaisia asiakkaita on vähintään {kf}. Salkun mediaani ja kvartiilit näytetään vasta "
        "vähintään {mq} asiakkaasta, pyöristettyinä (keskiarvot 0,1 pisteeseen, NPS kokonaisiin "
        "pisteisiin), jottei yksittäisen asiakkaan arvoa voi päätellä. Tietokannasta luetaan vain "
        "asiakaskohtaiset keskiarvot.",
        "**Seuraavaan tapaamiseen**: kehityskohde on ulottuvuus, jolla on selvä sokea piste tai jonka "
        "asiakkaiden keskiarvo on vähintään {margin_1} pistettä alle asiakkuuden ulottuvuuksien mediaanin; "
        "vahvuus vastaavasti (selvä piilevä vahvuus tai vähintään {margin_1} pistettä yli mediaanin). Tasoissa "
        "olevat ulottuvuudet nimetään yhdessä, kaikkia ulottuvuuksia ei nimetä koskaan, eikä mitään nimetä "
        "alle {kf} asiakasvastauksesta.",
        "**Kommentit**: sähköpostiosoitteet, puhelinnumerot, vastaaja- ja vastaustunnukset, asiakkuuksien "
        "vastuuhenkilöiden nimet ja tavalliset \"Etunimi Sukunimi\" -nimet poistetaan; muut nimet, lempinimet ja "
        "henkilöiden kuvaukset voivat jäädä. Luokittelu vihjesanoilla ja NPS-ryhmällä "
        "(ks. helpers.report.comments).",
        "**Tietosuoja ja pienet otokset**: lukua ei näytetä alle {reliable} vastauksesta (liian vähän "
        "luotettavaan lukuun); tiimin tuloksia ei alle {k} vastauksesta eikä asiakkaiden alle {kcl} "
        "vastauksesta; asiakkaiden alaryhmät piilotetaan alle {kcl} vastauksesta, tarvittaessa yksi lisää, "
        "jottei piilotettua ryhmää voi laskea kokonaisluvusta; alle kaksinkertaisen rajan kokoinen ryhmä näytetään kahdella "
        "kierroksella vain, jos vastaajat eroavat ei lainkaan tai vähintään rajan verran, jottei uuden "
        "vastaajan vastausta voi lukea kahden luvun erotuksesta. Tiimin kommentit näytetään vasta {kc} tiimin "
        "vastauksesta; alle {kcl} asiakasvastauksella asiakkaiden kommentit näytetään ilman pisteitä ja "
        "rooleja.",
        "**Aineisto**: kierrokset {waves} (aikajärjestyksessä); aineiston tiiviste {digest}; kysely "
        "\"{instrument}\".",
        "**Ohjelmistot**: {software}.",
    ],
}

HEADERS = {
    "en": {"side": "Side", "dimension": "Dimension", "n": "n", "mean": "Mean", "ci_low": "95% CI low",
           "ci_high": "95% CI high", "rwg": "Agreement r_wg", "role": "Client role", "n_client": "n client",
           "n_staff": "n team", "client_mean": "Client", "staff_mean": "Team", "gap": "Gap (client − team)",
           "p_fdr": "p (BH)", "effect_size": "Hedges' g", "label": "Reading", "evidence": "Evidence",
           "wave": "Wave", "nps": "NPS", "measure": "Measure", "value": "Value", "percentile": "Percentile",
           "pct_range": "Percentile of the CI ends", "ref_median": "Portfolio median", "n_accounts": "Accounts",
           "ref_range": "Portfolio middle half"},
    "fi": {"side": "Osapuoli", "dimension": "Ulottuvuus", "n": "n", "mean": "Keskiarvo",
           "ci_low": "95 %:n lv. alaraja", "ci_high": "95 %:n lv. yläraja", "rwg": "Yksimielisyys r_wg",
           "role": "Asiakkaan rooli", "n_client": "n asiakas", "n_staff": "n tiimi", "client_mean": "Asiakas",
           "staff_mean": "Tiimi", "gap": "Ero (asiakas − tiimi)", "p_fdr": "p (BH)", "effect_size": "Hedgesin g",
           "label": "Tulkinta", "evidence": "Näyttö", "wave": "Kierros", "nps": "NPS", "measure": "Mittari",
           "value": "Arvo", "percentile": "Persentiili", "pct_range": "Luottamusvälin päiden persentiilit",
           "ref_median": "Salkun mediaani", "n_accounts": "Asiakkaita", "ref_range": "Salkun keskimmäinen puolikas"},
}


def _t(key: str, language: str, **kw: Any) -> str:
    """The text ``key`` in ``language`` with the values ``kw`` put in."""
    return TEXT[language][key].format(**kw)


def _methods_items(language: str, **values: Any) -> list[str]:
    """The methods note's points in ``language`` (English unless Finnish), with the report's values put in."""
    return [item.format(**values) for item in METHODS["fi" if language == "fi" else "en"]]
