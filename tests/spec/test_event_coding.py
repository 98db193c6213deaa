"""The CAMEO coding of acts (configs/events.yaml) and the actors' event-data codes (configs/actors.yaml): complete
for every act the model can post, consistent with the CAMEO-to-Goldstein table, and refused when a kind of act is
missing, a code is unknown or a direction names no actor."""

from __future__ import annotations

import shutil

import pytest
import yaml
from support import ROOT

from sim.errors import InputError
from sim.spec.event_coding import ENGINE_ACTS, EventCoder, load_event_coding, quad_class, root_code, text


@pytest.fixture(scope="module")
def coding(doctrine):
    return load_event_coding(None, doctrine)


def test_every_kind_of_act_the_model_posts_is_coded(doctrine, coding):
    coded = {a.act for a in coding.acts}
    assert {r.id for r in doctrine.responses} <= coded
    assert {"move:" + m for m in doctrine.ids("moves")} <= coded
    assert {"deploy:" + t for t in doctrine.ids("deployment_types")} <= coded
    assert set(ENGINE_ACTS) <= coded


def test_the_engine_posts_no_act_outside_the_coding():
    """Every act name the engine writes literally is one of ENGINE_ACTS (responses, moves and deployments are
    checked against the doctrine above)."""
    import re

    posted = set()
    for path in (ROOT / "sim" / "engine").rglob("*.py"):
        posted |= set(re.findall(r'\.act\([^)]*?"([a-z_]+)"', path.read_text(encoding="utf-8")))
    assert posted and posted <= set(ENGINE_ACTS) | {"russia"}, posted - set(ENGINE_ACTS)


@pytest.mark.parametrize(("act", "expected"), [
    ("move:arms_delivery", ("us", "ukraine", "072", "07", 2, 8.3)),
    ("ceasefire", ("russia", "ukraine", "0871", "08", 2, 9.0)),
    ("expel_diplomats", ("us", "russia", "161", "16", 4, -4.0)),
    ("article4_consultation", ("us", "nato", "040", "04", 1, 1.0)),
    ("strike_nato_territory", ("us", "russia", "195", "19", 4, -10.0)),
])
def test_acts_are_coded_as_gdelt_codes_them(doctrine, coding, act, expected):
    codes = {a.id: a.codes.cameo for a in doctrine.actors if a.codes}
    actor, target = ("russia", "us") if act == "strike_nato_territory" else ("us", "russia")
    row = EventCoder(coding, codes).code([act], [actor], [target])
    got = (text(row["actor1"])[0], text(row["actor2"])[0], text(row["event_code"])[0],
           text(row["event_root_code"])[0], int(row["quad_class"][0]), float(row["goldstein"][0]))
    if act == "strike_nato_territory":
        expected = ("russia", "us") + expected[2:]
    assert got[:5] == expected[:5] and got[5] == pytest.approx(expected[5])


def test_root_codes_and_quad_classes_follow_the_cameo_ranges():
    codes = ("010", "057", "062", "0871", "091", "110", "138", "141", "150", "2042")
    assert [quad_class(c) for c in codes] == [1, 1, 2, 2, 3, 3, 3, 4, 4, 4]  # GDELT: 01-05, 06-08, 09-13, 14-20
    assert root_code("1385") == "13"


def test_goldstein_values_agree_with_the_root_table(coding):
    """Sub-codes whose value the table gives only by root take the root's value (DOMAIN 6.1)."""
    roots = {"01": 0.0, "03": 4.0, "04": 1.0, "08": 5.0, "11": -2.0, "16": -4.0, "19": -10.0, "20": -10.0}
    for c in coding.codes:
        if c.code.endswith("0") and len(c.code) == 3 and c.code[:2] in roots:
            assert c.goldstein == roots[c.code[:2]], c.code


def test_every_actor_has_event_codes(doctrine):
    for a in doctrine.actors:
        assert a.codes is not None, a.id
        if a.id == "nato":
            assert a.codes.cameo == "IGOWSTNAT" and a.codes.iso3 is None
        else:
            assert a.codes.iso3 == a.codes.cameo and len(a.codes.iso3) == 3, a.id
    assert {a.id: a.codes.iso3 for a in doctrine.actors if a.codes}["uk"] == "GBR"


def _configs_with(tmp_path, change):
    folder = tmp_path / "configs"
    shutil.copytree(ROOT / "configs", folder)
    data = yaml.safe_load((folder / "events.yaml").read_text())
    change(data)
    (folder / "events.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return folder


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d["acts"].pop(0), "acts: acts without a CAMEO coding; expected an entry for each of: hold"),
    (lambda d: d["acts"][0].update(code="999"), "acts[0].code: act 'hold' has the code 999, which is not in the codes"),
    (lambda d: d["acts"][0].update(target_actor="atlantis"), "acts[0].target_actor: unknown actor 'atlantis'"),
    (lambda d: d["acts"].append(dict(d["acts"][0])), "act 'hold' is coded twice"),
    (lambda d: d["codes"][0].pop("source"), "codes[0].source: missing required key 'source'"),
])
def test_a_broken_coding_is_refused_with_its_key(doctrine, tmp_path, change, message):
    with pytest.raises(InputError) as info:
        load_event_coding(_configs_with(tmp_path, change), doctrine)
    assert message in str(info.value) and "events.yaml" in str(info.value)


def test_a_doctrine_folder_without_events_yaml_uses_the_shipped_coding(doctrine, tmp_path, coding):
    folder = tmp_path / "configs"
    shutil.copytree(ROOT / "configs", folder)
    (folder / "events.yaml").unlink()
    assert load_event_coding(folder, doctrine) == coding


def test_docs_events_md_has_a_row_per_act_as_coded(coding):
    text = (ROOT / "docs" / "events.md").read_text(encoding="utf-8")
    side = {"actor": "the actor", "target": "the target"}
    for a in coding.acts:
        row = next((line for line in text.splitlines() if line.startswith(f"| `{a.act}` |")), None)
        assert row is not None, f"docs/events.md has no row for {a.act}"
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[1] == side.get(a.source_actor, f"`{a.source_actor}`")
        assert cells[2] == side.get(a.target_actor, f"`{a.target_actor}`")
        assert cells[3].split()[0] == a.code and cells[4] == a.code[:2]
