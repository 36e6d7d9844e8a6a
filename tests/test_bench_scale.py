"""The scale benchmark keeps working: its class generator gives the mix it states, and a tiny run grades it.

Timings are never asserted; what is checked is that the class has the kinds and shares of
``benchmarks/scale_class.json``, that right answers get every point and untouched notebooks none, and that the
benchmark's report holds every number it promises (per-stage costs, the writer, Dask's overhead, the projection).
"""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))

import scale_class  # noqa: E402
from scale_projection import projection, rate  # noqa: E402

from autograder.students import student_id_problem  # noqa: E402

MIX = scale_class.load_mix()
WEIGHTS = MIX["weights"]


def test_plan_gives_every_set_the_shares_and_places_the_loops():
    sets = ["ps1_softmax", "ps2_layout_cell"]
    planned = scale_class.plan(sets, 200, MIX, loops=3, rng=7)
    assert planned == scale_class.plan(sets, 200, MIX, loops=3, rng=7)       # reproducible
    assert [s.assignment for s in planned[:4]] == sets * 2                   # the sets in turn
    assert all(student_id_problem(s.student) is None for s in planned)
    assert len({(s.student, s.assignment) for s in planned}) == 200
    counts = scale_class.kind_counts(planned)
    total = sum(WEIGHTS.values())
    for a in sets:
        c = counts[a]
        assert c.get("infinite_loop", 0) == (2 if a == sets[0] else 1)
        c["broken"] = c.get("broken", 0) + c.pop("infinite_loop", 0)
        assert c == {k: round(100 * w / total) for k, w in WEIGHTS.items() if w}


def test_plan_rounds_the_shares_to_the_class_size():
    planned = scale_class.plan(["ps1_softmax"], 37, MIX)
    counts = scale_class.kind_counts(planned)["ps1_softmax"]
    assert sum(counts.values()) == 37
    total = sum(WEIGHTS.values())
    assert all(abs(counts.get(k, 0) - 37 * w / total) < 1 for k, w in WEIGHTS.items())


def test_plan_refuses_bad_counts():
    with pytest.raises(ValueError, match="loops"):
        scale_class.plan(["ps1_softmax"], 2, MIX, loops=3)
    with pytest.raises(ValueError, match="sets"):
        scale_class.plan([], 2, MIX)


def test_load_mix_names_what_is_wrong(tmp_path):
    bad = dict(MIX, weights={"right": 1})
    (tmp_path / "mix.json").write_text(json.dumps(bad))
    with pytest.raises(ValueError, match="weights: expected"):
        scale_class.load_mix(tmp_path / "mix.json")


def test_projection_formula():
    p = projection(c=0.1, w=400.0, s=0.005)
    assert p["workers_writer"] == pytest.approx(40.0)
    assert p["workers_scheduler"] == pytest.approx(20.0)
    assert p["workers_usable"] == pytest.approx(20.0) and p["max_rate"] == pytest.approx(200.0)
    assert p["workers_shared_core"] == pytest.approx(0.1 / (1 / 400 + 0.005))
    assert rate(10, c=0.1, w=400.0, s=0.005) == pytest.approx(100.0)     # workers limit
    assert rate(50, c=0.1, w=400.0, s=0.005) == pytest.approx(200.0)     # scheduler limits
    assert projection(c=0.1, w=400.0)["workers_usable"] == pytest.approx(40.0)
    with pytest.raises(ValueError, match="positive"):
        projection(c=0.0, w=1.0)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return scale_class.make_course(str(tmp_path_factory.mktemp("scale")), ["ps1_softmax"])


def test_templates_cover_every_kind_and_keep_the_release(course):
    made = scale_class.templates(course, "ps1_softmax", MIX)
    assert set(scale_class.KINDS) == {t.kind for t in made.values()}
    assert scale_class.LOOP in made
    release = json.loads(Path(course, "release", "ps1_softmax", "ps1_softmax.ipynb").read_text())
    ids = [c.get("id") for c in release["cells"]]
    for key, t in made.items():
        nb = json.loads(t.text)
        assert [c.get("id") for c in nb["cells"]] == ids, key
    assert made["empty:as_released"].text == json.dumps(release, indent=1)
    loop_cells = {c["metadata"].get("nbgrader", {}).get("grade_id"): c["source"]
                  for c in json.loads(made[scale_class.LOOP].text)["cells"]}
    assert loop_cells["softmax"].startswith(MIX["broken_cells"]["infinite_loop"])


def test_tiny_run_grades_the_class_and_reports_every_number(tmp_path):
    import bench_scale

    backends = ["pool"] + ([] if bench_scale.dask_available() else ["dask"])
    out = tmp_path / "scale.json"
    bench_scale.main(["--submissions", "12", "--sets", "ps1_softmax", "--workers", "1", "--loops", "0",
                      "--backends", *backends, "--dask-tasks", "20", "--json", str(out)])
    summary = json.loads(out.read_text())
    assert summary["class"] == {"ps1_softmax": {"right": 5, "partly_right": 4, "wrong": 1, "empty": 1,
                                                "broken": 1}}
    assert [(r["backend"], r["workers"], r["submissions"]) for r in summary["runs"]] == \
        [(b, 1, 12) for b in backends]
    for r in summary["runs"]:
        assert r["mean_sandbox"] > 0 and r["mean_compare"] > 0 and r["write"] > 0 and r["writer_per_second"] > 0
    scores = summary["scores"]
    assert scores["right"]["mean_share"] == 1.0
    assert scores["empty"]["mean_share"] == 0.0
    assert 0.0 < scores["partly_right"]["mean_share"] < 1.0
    assert scores["wrong"]["mean_share"] < scores["partly_right"]["mean_share"]
    p = summary["projection"]
    assert all(math.isfinite(p[k]) and p[k] > 0 for k in ("c", "w", "workers_writer", "workers_usable"))
    if "dask" in backends:
        assert summary["dask_overhead"]["payload"]["payload_bytes"] > 0
        assert p["s"] > 0 and p["workers_scheduler"] > 0
