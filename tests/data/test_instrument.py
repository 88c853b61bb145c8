"""The instrument drives everything; a user's own instrument works through the kit."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from helpers.data.ingest import ingest
from helpers.data.instrument import InstrumentError, load_instrument
from helpers.data.sample import build_sample_store
from helpers.data.store import load_answers
from helpers.stats.scores import dimension_summary, rwg


def test_default_instrument():
    inst = load_instrument()
    assert inst.dimension_ids == ["excitement", "dare", "professionalism", "impact", "care"]
    assert inst.labels("fi") == {"excitement": "Innostus", "dare": "Uskallus", "professionalism": "Ammattimaisuus",
                                 "impact": "Vaikutus", "care": "Välittäminen"}
    assert all(len(d.items) == 3 for d in inst.dimensions)
    assert (inst.scale_min, inst.scale_max, inst.nps_min, inst.nps_max) == (1, 5, 0, 10)
    assert inst.is_dont_know("En osaa sanoa") and inst.is_dont_know(99) and not inst.is_dont_know("3")
    for it in inst.items:  # every item is worded for both sides in both languages
        assert {k: set(v) for k, v in it.text.items()} == {"client": {"en", "fi"}, "staff": {"en", "fi"}}
        assert inst.header_lookup()[it.text["client"]["fi"].lower().rstrip(".")] == it.id


def _custom_instrument(tmp_path):
    base = yaml.safe_load(load_instrument().source and open(load_instrument().source, encoding="utf-8").read())
    base["scale"] = {"min": 1, "max": 7, "labels": {"en": {1: "Strongly disagree", 7: "Strongly agree"}}}
    base["dimensions"].append({
        "id": "agility", "label": {"en": "Agility", "fi": "Ketteryys"},
        "description": {"en": "Adapting quickly."},
        "items": [{"id": f"agility_{i}", "client": {"en": f"The partner adapts quickly ({i}).", "fi": f"Kumppani mukautuu nopeasti ({i})."},
                   "staff": {"en": f"We adapt quickly ({i}).", "fi": f"Mukaudumme nopeasti ({i})."}} for i in (1, 2)],
    })
    p = tmp_path / "custom.yml"
    p.write_text(yaml.safe_dump(base, allow_unicode=True), encoding="utf-8")
    return load_instrument(p)


def test_own_instrument_through_the_kit(tmp_path):
    """A 1–7 scale and a sixth dimension: sample data, ingest, scores, agreement."""
    inst = _custom_instrument(tmp_path)
    assert inst.dimension_ids[-1] == "agility" and inst.scale_max == 7
    store = tmp_path / "s.duckdb"
    build_sample_store(store, out=tmp_path / "ex", n_accounts=6, instrument=inst)
    ans = load_answers(store=store)
    assert {"agility_1", "agility_2"} <= set(ans["item"])
    assert ans["value"].max() > 5  # the 7-point scale is used
    summ = dimension_summary(ans, instrument=inst, by=["side", "dimension"])
    assert set(summ["dimension"]) == set(inst.dimension_ids)
    assert rwg(ans[ans["side"] == "staff"], instrument=inst)["rwg"].between(0, 1).all()
    # a 6 is valid on 1–7 but an 8 is not
    f = pd.DataFrame({"response_id": ["X1"], "account_id": ["A001"], "nps": ["9"],
                      **{i: ["6"] for i in inst.item_ids}})
    f.loc[0, "care_1"] = "8"
    f.to_csv(tmp_path / "c.csv", index=False)
    res = ingest(tmp_path / "c.csv", kind="client", wave="2027Q1", store=store, instrument=inst)
    assert res.rows_quarantined == 1 and "outside the 1–7 scale" in res.quarantine["reason"].iloc[0]


@pytest.mark.parametrize("change,msg", [
    (lambda d: d.update(scale={"min": 5, "max": 1}), "scale min"),
    (lambda d: d["dimensions"][0].update(items=[]), "has no items"),
    (lambda d: d["dimensions"][1]["items"].append({"id": "excitement_1"}), "used twice"),
    (lambda d: d["dimensions"][0].update(id="Bad Id"), "lower_snake_case"),
])
def test_invalid_instrument(tmp_path, change, msg):
    d = yaml.safe_load(open(load_instrument().source, encoding="utf-8").read())
    change(d)
    p = tmp_path / "bad.yml"
    p.write_text(yaml.safe_dump(d, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InstrumentError, match=msg):
        load_instrument(p)


def test_own_instrument_reaches_everything_the_command_starts(tmp_path, monkeypatch, capsys):
    """`flamekit --instrument X` sets $FLAMEKIT_INSTRUMENT, which every default load_instrument() reads —
    also in notebooks and report kernels the command starts."""
    from helpers.cli import main

    inst = _custom_instrument(tmp_path)
    monkeypatch.setenv("FLAMEKIT_INSTRUMENT", "")  # empty means the shipped one; the variable is undone after
    assert "agility" not in load_instrument().dimension_ids
    store = tmp_path / "s.duckdb"
    build_sample_store(store, out=tmp_path / "ex", n_accounts=6, instrument=inst)
    assert main(["--store", str(store), "--instrument", str(inst.source), "summary"]) == 0
    assert "Agility" in capsys.readouterr().out
    assert load_instrument().dimension_ids[-1] == "agility"  # the default now follows the command's choice
    monkeypatch.setenv("FLAMEKIT_INSTRUMENT", str(tmp_path / "missing.yml"))
    with pytest.raises(InstrumentError, match="missing.yml does not exist"):
        load_instrument()
    assert main(["--instrument", str(tmp_path / "nope.yml"), "summary"]) == 2
    assert "nope.yml does not exist" in capsys.readouterr().err
