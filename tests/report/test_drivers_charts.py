"""The drivers page's charts: what they draw, in the page's language, and that they stay readable at 300 accounts."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from helpers.report.drivers import plots  # noqa: E402
from helpers.report.drivers.surface_plots import LABELLED  # noqa: E402


def _accounts(n: int, seed: int = 3) -> pd.DataFrame:
    """An account table of ``n`` accounts: client and team means on care, the client NPS mean, names."""
    rng = np.random.default_rng(seed)
    client = rng.uniform(2, 5, n)
    team = np.clip(client + rng.normal(0, 0.5, n), 1, 5)
    return pd.DataFrame({"account_id": [f"A{i:03d}" for i in range(n)], "name": [f"Account {i}" for i in range(n)],
                         "client_care": client, "staff_care": team, "n_client": rng.integers(3, 30, n),
                         "client_nps_mean": 2 + 1.2 * client - 0.5 * (client - team) ** 2 + rng.normal(0, 0.5, n),
                         "outcome_known": True, "churned": (rng.uniform(size=n) < 0.3).astype(float)})


def test_congruence_names_only_the_accounts_furthest_apart_at_300_accounts():
    table = _accounts(300)
    ax = plots.plot_congruence(table, pd.DataFrame(columns=["outcome", "term", "dimension", "p_val"]),
                               outcome="client_nps_mean", dimension="care", language="fi")
    named = [t.get_text() for t in ax.texts if t.get_gid() == "account"]
    assert len(named) == LABELLED
    apart = table[table["n_client"] >= 5].assign(d=lambda f: (f["client_care"] - f["staff_care"]).abs())
    assert set(named) == set(apart.nlargest(LABELLED, "d")["name"])  # by name, the ones the question is about
    assert "asiakkuutta" in ax.get_title(loc="left")
    assert ax.get_xlabel() == "Välittäminen (asiakas)"
    plt.close("all")


def test_congruence_leaves_out_accounts_with_too_few_client_answers():
    table = _accounts(40)
    ax = plots.plot_congruence(table, pd.DataFrame(columns=["outcome", "term", "dimension", "p_val"]),
                               outcome="client_nps_mean", dimension="care", min_client_group_size=10)
    points = ax.collections[-1].get_offsets()
    assert len(points) == (table["n_client"] >= 10).sum()
    plt.close("all")


def test_ticks_follow_the_locale():
    _, ax = plt.subplots()
    ax.plot([0, 1], [3.25, 4.5])
    plots.locale_ticks(ax, "y", language="fi", digits=1)
    plots.locale_ticks(ax, "x", language="fi", percent=1)
    ax.figure.canvas.draw()
    assert all("." not in t.get_text() for t in ax.get_yticklabels()) and any(
        "," in t.get_text() for t in ax.get_yticklabels())
    assert any(t.get_text().endswith("\u00a0%") for t in ax.get_xticklabels())
    plt.close("all")


def test_images_carry_alt_text_in_the_page_language():
    from helpers.report.drivers import images
    from helpers.report.drivers.setup import DriverSetup

    imp = pd.DataFrame({"term": ["care", "impact"], "share": [0.6, 0.4], "share_ci_low": [0.5, 0.3],
                        "share_ci_high": [0.7, 0.5], "rank": [1, 2], "r2": 0.5, "n": 300, "n_clusters": 30})
    setup = DriverSetup(data=pd.DataFrame(), outcome="nps", predictors=["care", "impact"], level="respondent",
                        kind="nps", side="client", cluster="account_id", table=pd.DataFrame(), description="")
    image = images.drivers_image(setup, imp, language="fi")
    assert image.data[:4] == b"\x89PNG"
    assert "Välittäminen 60\u00a0%" in image.alt and "Pylväskaavio" in image.alt
    plt.close("all")


def test_influence_ticks_tell_small_leverages_apart():
    rng = np.random.default_rng(5)
    data = pd.DataFrame({"x1": rng.normal(size=5000), "x2": rng.normal(size=5000)})
    data["y"] = data["x1"] + rng.normal(size=5000)
    data["id"] = [f"r{i}" for i in range(5000)]
    ax = plots.plot_influence(data, outcome="y", predictors=["x1", "x2"], id="id", language="fi")
    ax.figure.canvas.draw()
    ticks = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert len(set(ticks)) == len(ticks) > 2 and all("," in t for t in ticks)  # not "0,00" five times
    plt.close("all")
