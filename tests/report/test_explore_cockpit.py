"""The drill-down controls only call the tested views: a change redraws every view, and every view has plain HTML."""

from __future__ import annotations

import pytest

from helpers.report import explore as ex

WIDGET = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(scope="module")
def explorer(sample_store):
    return ex.Explorer(store=sample_store, language="fi")


def test_controls_follow_the_selection_and_redraw_the_views(explorer):
    cockpit = ex.Cockpit(explorer, explorer.select())
    controls = cockpit.controls()
    band = cockpit.show(ex.glance_band)
    table = cockpit.show(ex.accounts_table)
    before = band.html
    dd = cockpit.widgets
    assert dd["segment"].value == "" and dd["segment"].options[0] == ("Kaikki toimialat", "")
    assert dd["wave"].value == explorer.waves[-1] and dd["wave"].options[0][1] == explorer.waves[-1]

    dd["segment"].value = "Energy"  # what a click does
    sel = cockpit.selection
    energy = set(explorer.accounts.loc[explorer.accounts["segment"] == "Energy", "account_id"])
    assert sel.segment == "Energy" and set(sel.accounts) == energy and sel.account_id in energy
    assert {v for _, v in dd["account"].options} <= energy and dd["account"].value == sel.account_id
    assert {v for _, v in dd["owner"].options} - {""} == set(
        explorer.accounts.loc[explorer.accounts["segment"] == "Energy", "owner"])
    assert band.html != before and "toimiala" in controls.html
    assert band.outputs[0]["data"]["text/html"] == band.html  # what JupyterLab shows
    names = set(explorer.accounts.loc[explorer.accounts["segment"] == "Energy", "name"])
    other = set(explorer.accounts["name"]) - names
    assert any(n in table.html for n in names) and not any(f">{n}<" in table.html for n in other)

    owner = dd["owner"].options[1][1]
    dd["owner"].value = owner
    assert cockpit.selection.owner == owner
    dd["segment"].value = next(s for s in ex.segment_choices(explorer.accounts)
                               if owner not in ex.owner_choices(explorer.accounts, segment=s))
    assert cockpit.selection.owner == "" and dd["owner"].value == ""  # the owner has no account there

    chosen = dd["account"].options[-1][1]
    dd["account"].value = chosen
    assert cockpit.selection.account_id == chosen and cockpit.selection.account_why == "given"
    dd["wave"].value = explorer.waves[-2]
    assert cockpit.selection.wave == explorer.waves[-2]


def test_every_widget_carries_plain_html_and_no_widget_repr(explorer):
    cockpit = ex.Cockpit(explorer, explorer.select(segment="Energy"))
    for shown in (cockpit.controls(), cockpit.show(ex.account_band), cockpit.report(render=False)):
        bundle = shown._repr_mimebundle_()
        assert WIDGET in bundle and bundle["text/html"] == shown.html and shown.html
        assert "Output(" not in bundle["text/plain"] and "VBox(" not in bundle["text/plain"]
    report = cockpit.report(render=False).html
    assert "flamekit" in report and "--accounts" in report and "render_report" in report


def test_a_view_that_fails_after_a_change_says_so_in_the_view(explorer):
    cockpit = ex.Cockpit(explorer, explorer.select())
    calls = []

    def fragile(ex_, sel):
        calls.append(sel.segment)
        if sel.segment:
            raise RuntimeError("boom")
        return ex.Html("<p>ok</p>")

    live = cockpit.show(fragile)
    cockpit.choose(segment="Energy")
    assert calls == ["", "Energy"] and "Näkymää ei voitu piirtää" in live.html and "boom" in live.html
