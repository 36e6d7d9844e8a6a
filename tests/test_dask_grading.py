"""Grading on a dask.distributed cluster (loopback only) and the batched writer.

A 2-worker LocalCluster grades a class with the scores the process pool gives with the same seed; workers
that cannot read the course folder (submissions, released files) grade what the grader sent them, with the flags and notes of local
grading; a shipment that breaks the snapshot's caps is refused; a worker killed mid-batch neither loses nor
duplicates a grade; a worker without a sandbox grades nothing and stores nothing; the writer commits a batch
whole and reports its own time; a result that breaks the rules of a result is stored as a zero with the reason.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import types

import pytest

from autograder import batch, gradebook
from autograder.course import load_course
from autograder.grade import grade_assignment
from autograder.writer import WriterStats
from redteam import factory
from redteam.corpus import Entry

distributed = pytest.importorskip("distributed")

ASSIGNMENT = factory.ASSIGNMENT
PARTIAL = Entry("partial", "the softmax VJP without the weighted mean",
                answers={"softmax_vjp": "def softmax_vjp(logits, v):\n    return softmax(logits) * v\n"})
STUDENTS = {"ana": Entry("ana", "correct"), "ben": PARTIAL, "cy": Entry("cy", "wrong", base="wrong"),
            "dee": Entry("dee", "correct"), "eve": PARTIAL, "fay": Entry("fay", "wrong", base="wrong")}


@pytest.fixture(scope="module")
def base_course(tmp_path_factory):
    course = factory.make_course(str(tmp_path_factory.mktemp("base")))
    for student, entry in STUDENTS.items():
        factory.make_submission(course, student, entry)
    return course


def copy_of(base_course, tmp_path, name="course"):
    dest = str(tmp_path / name)
    shutil.copytree(base_course, dest, symlinks=True)
    return dest


def stored(course):
    """student -> {grade_id: auto_score} of every submission in the gradebook."""
    from nbgrader.api import Gradebook

    out = {}
    with Gradebook("sqlite:///" + os.path.join(course, "gradebook.db"), "rnn-derivatives") as gb:
        for sub in gb.assignment_submissions(ASSIGNMENT):
            out[sub.student_id] = {g.name: g.auto_score for nb in sub.notebooks for g in nb.grades}
    return out


def logged_runs(course):
    with open(os.path.join(course, "grading_log", ASSIGNMENT, "runs.jsonl")) as fh:
        return [json.loads(line)["student"] for line in fh]


def verdicts(results):
    return {r.student: (r.scores, {gid: [(c.case, c.passed, c.diagnosis) for c in cases]
                                   for gid, cases in r.cases.items()}) for r in results}


def test_a_local_cluster_grades_like_the_process_pool(base_course, tmp_path):
    pool_course, dask_course = copy_of(base_course, tmp_path, "pool"), copy_of(base_course, tmp_path, "dask")
    by_pool = grade_assignment(pool_course, ASSIGNMENT, workers=2, seed=7)
    stats = WriterStats()
    by_dask = grade_assignment(dask_course, ASSIGNMENT, workers=2, seed=7, dask="local", stats=stats)
    assert verdicts(by_dask) == verdicts(by_pool)
    assert {r.student: r.total for r in by_dask}["ana"] == 15
    assert stored(dask_course) == stored(pool_course)
    assert sorted(logged_runs(dask_course)) == sorted(STUDENTS)
    assert stats.submissions == len(STUDENTS) and stats.batches >= 1 and stats.seconds > 0
    for r in by_dask:
        assert not r.not_graded and r.stage_seconds["sandbox"] > 0
        assert set(r.stage_seconds) == {"grade", "sandbox", "compare", "encode", "turnaround"}
        with open(os.path.join(dask_course, "autograded", r.student, ASSIGNMENT, f"{ASSIGNMENT}.ipynb")) as fh:
            assert json.load(fh)["cells"]
    again = grade_assignment(dask_course, ASSIGNMENT, workers=2, dask="local")   # resumed: nothing left to do
    assert all(r.skipped for r in again)


ODD = {"gil": Entry("gil", "a correct notebook with an extra file in a folder and a link",
                    files={"notes/scratch.py": "x = 1\n"}, links={"answers": "/etc/passwd"}),
       "hal": Entry("hal", "a correct notebook with a released file changed", files={"rnncheck.py": "x = 2\n"})}


def _deny_reads_under(folder):
    """In a dask worker process: every os.open / os.scandir / os.stat of a path under ``folder`` fails and is
    counted in os._reads_denied (paths relative to an open folder are reached only through such a path)."""
    import os

    os._reads_denied = []
    for name in ("open", "scandir", "stat", "lstat", "listdir"):
        real = getattr(os, name)

        def guarded(path=".", *args, _real=real, **kwargs):
            if isinstance(path, (str, bytes, os.PathLike)) and \
                    os.path.abspath(os.fsdecode(path)).startswith(folder + os.sep):
                os._reads_denied.append(os.fsdecode(path))
                raise PermissionError(13, "this worker cannot read the course folder", os.fsdecode(path))
            return _real(path, *args, **kwargs)

        setattr(os, name, guarded)


def _reads_denied():
    import os

    return list(os._reads_denied)


def test_workers_grade_the_snapshot_sent_to_them_as_the_process_pool_does(base_course, tmp_path, monkeypatch):
    from autograder import dask_backend

    pool_course, dask_course = copy_of(base_course, tmp_path, "pool"), copy_of(base_course, tmp_path, "dask")
    for course in (pool_course, dask_course):
        for student, entry in ODD.items():
            factory.make_submission(course, student, entry)
    by_pool = grade_assignment(pool_course, ASSIGNMENT, workers=2, seed=7)
    most = []
    real_send = dask_backend.DaskGraders._send

    def send_and_count(self):
        real_send(self)
        most.append(len(self.in_flight))

    monkeypatch.setattr(dask_backend, "MAX_BYTES_IN_FLIGHT", 1)     # one submission in flight at a time
    monkeypatch.setattr(dask_backend.DaskGraders, "_send", send_and_count)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address="127.0.0.1:0") as cluster, distributed.Client(cluster) as client:
        client.run(_deny_reads_under, os.path.realpath(dask_course))     # submissions and released files
        by_dask = grade_assignment(dask_course, ASSIGNMENT, workers=2, seed=7, dask=client)
        assert client.run(_reads_denied) == {addr: [] for addr in client.scheduler_info()["workers"]}
    assert max(most) == 1 and len(most) > len(STUDENTS)

    def seen(results):
        return {r.student: (r.flags, r.notes, r.errors, r.written, r.timestamp, r.notebook_sha256,
                            r.autograded_text) for r in results}

    assert verdicts(by_dask) == verdicts(by_pool) and seen(by_dask) == seen(by_pool)
    gil = {r.student: r for r in by_dask}["gil"]
    assert gil.total == 15 and gil.timestamp and gil.notebook_sha256
    assert any("notes/scratch.py" in f and "answers (link)" in f for f in gil.flags)
    assert any("'answers' was not copied for grading: a link" in n for n in gil.notes)
    hal = {r.student: r for r in by_dask}["hal"]
    assert any("rnncheck.py (modified)" in f for f in hal.flags), hal.flags
    assert stored(dask_course) == stored(pool_course)


def test_a_shipment_outside_the_snapshots_caps_is_refused(base_course, tmp_path, monkeypatch):
    from autograder import dask_backend, shipment
    from autograder.snapshot import MAX_SNAPSHOT_FILES

    course = copy_of(base_course, tmp_path)
    folder = os.path.join(course, "submitted", "ana", ASSIGNMENT)
    sent = shipment.pack(folder, "ana", f"{ASSIGNMENT}.ipynb", 30.0)
    assert sent.files[f"{ASSIGNMENT}.ipynb"] and "timestamp.txt" in sent.files and sent.unreadable is None
    # with the release's manifest, the released files the submission holds unchanged are named, not sent
    manifest = load_course(course, ASSIGNMENT).release_manifest
    lean = shipment.pack(folder, "ana", f"{ASSIGNMENT}.ipynb", 30.0, manifest)
    assert set(lean.unchanged) == set(manifest) - {f"{ASSIGNMENT}.ipynb"} and lean.unchanged
    assert set(lean.files) == {f"{ASSIGNMENT}.ipynb", "timestamp.txt"} and lean.size < sent.size / 5
    assert sorted(os.listdir(shipment.unpack(lean, str(tmp_path / "lean")).folder)) == sorted(lean.files)
    for unchanged in (["../x"], ["timestamp.txt"], "not a list"):
        with pytest.raises(shipment.ShipmentRefused, match="unchanged"):
            shipment.unpack(shipment.Shipment("ana", files=dict(lean.files), unchanged=unchanged),
                            str(tmp_path / "refused-unchanged"))
    taken = shipment.unpack(sent, str(tmp_path / "ok"))
    for rel, content in sent.files.items():
        with open(os.path.join(taken.folder, rel), "rb") as fh:
            assert fh.read() == content
    hostile = [{"../escape": b"x"}, {"/abs": b"x"}, {"a/../../escape": b"x"}, {"a//b": b"x"}, {"": b"x"},
               {"./a": b"x"}, {"a": "text, not bytes"}, {"/".join("d" * 10) + "/f": b"x"},
               {f"f{i}": b"" for i in range(MAX_SNAPSHOT_FILES + 1)}, {"a": b"x", "a/b": b"y"}]
    for files in hostile:
        with pytest.raises(shipment.ShipmentRefused):
            shipment.unpack(shipment.Shipment("ana", files=files), str(tmp_path / "refused" / "submission"))
    with pytest.raises(shipment.ShipmentRefused, match="bytes in all"):
        monkeypatch.setattr(shipment, "MAX_SNAPSHOT_BYTES", 3)
        shipment.unpack(shipment.Shipment("ana", files={"a": b"xx", "b": b"yy"}), str(tmp_path / "big"))
    monkeypatch.undo()
    with pytest.raises(shipment.ShipmentRefused, match="notes"):
        shipment.unpack(shipment.Shipment("ana", notes=["x" * 10_000]), str(tmp_path / "notes"))
    assert not os.path.exists(tmp_path / "escape") and not os.path.exists(tmp_path / "refused" / "escape")

    # through a cluster: the worker refuses it, the batch lists the submission as not graded and stores nothing
    def pack_an_escape(folder, student, notebook, seconds, released=None):
        return shipment.Shipment(student, files={"../escape": b"x"})

    monkeypatch.setattr(dask_backend, "pack", pack_an_escape)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address="127.0.0.1:0") as cluster, distributed.Client(cluster) as client:
        results = grade_assignment(course, ASSIGNMENT, students=["ana"], dask=client)
    assert results[0].not_graded.startswith("ShipmentRefused: the path '../escape'")
    assert not os.path.exists(os.path.join(course, "grading_log", ASSIGNMENT))


def test_a_worker_killed_mid_batch_neither_loses_nor_duplicates_a_grade(base_course, tmp_path):
    course = copy_of(base_course, tmp_path)
    killed = {}
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address="127.0.0.1:0") as cluster, distributed.Client(cluster) as client:

        def kill_a_busy_worker(progress):
            if killed or progress.done == progress.total:
                return
            busy = {addr: keys for addr, keys in client.processing().items() if keys}
            if not busy:
                return
            addr = sorted(busy)[0]
            killed.update(pid=client.run(os.getpid)[addr], busy=list(busy[addr]), done=progress.done)
            os.kill(killed["pid"], signal.SIGKILL)

        results = grade_assignment(course, ASSIGNMENT, workers=2, seed=7, dask=client, batch_seconds=0.0,
                                   progress=kill_a_busy_worker)
        assert killed["busy"] and killed["done"] < len(STUDENTS)       # it held a submission, mid-batch
        assert killed["pid"] not in client.run(os.getpid).values()
    assert [r.student for r in results if r.not_graded] == []
    assert sorted(logged_runs(course)) == sorted(STUDENTS)          # each graded once: none lost, none twice
    grades = stored(course)
    assert sorted(grades) == sorted(STUDENTS)
    for r in results:
        assert {gid: grades[r.student][gid] for gid in r.scores} == r.scores
    reference = copy_of(base_course, tmp_path, "reference")
    assert verdicts(results) == verdicts(grade_assignment(reference, ASSIGNMENT, workers=2, seed=7))
    again = grade_assignment(course, ASSIGNMENT, workers=2)          # resuming: nothing graded twice
    assert all(r.skipped for r in again) and sorted(logged_runs(course)) == sorted(STUDENTS)


def test_a_worker_without_a_sandbox_grades_nothing_and_stores_nothing(base_course, tmp_path, monkeypatch):
    from autograder.sandbox import SandboxUnavailable, WorkerPool

    def refuse(self):
        raise SandboxUnavailable("bubblewrap is not installed")

    course = copy_of(base_course, tmp_path)
    with monkeypatch.context() as patch:
        patch.setattr(WorkerPool, "start", refuse)
        # workers in this process, so that they see the patch
        with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                      dashboard_address="127.0.0.1:0") as cluster, distributed.Client(cluster) as client:
            results = grade_assignment(course, ASSIGNMENT, students=["ana", "ben"], dask=client)
    assert [r.student for r in results] == ["ana", "ben"]
    for r in results:
        assert "bubblewrap is not installed" in r.not_graded and r.errors == [f"not graded: {r.not_graded}"]
    # no score (the rows nbgrader keeps for an ungraded submission only), no log, no autograded notebook
    assert all(score is None for grades in stored(course).values() for score in grades.values())
    assert not os.path.exists(os.path.join(course, "grading_log", ASSIGNMENT))
    assert not os.path.exists(os.path.join(course, "autograded"))
    graded = grade_assignment(course, ASSIGNMENT, students=["ana", "ben"], workers=1)   # the next run grades them
    assert [r.skipped or bool(r.not_graded) for r in graded] == [False, False]


def test_the_writer_stores_many_submissions_per_transaction(base_course, tmp_path):
    course = copy_of(base_course, tmp_path)
    stats = WriterStats()
    results = grade_assignment(course, ASSIGNMENT, workers=2, seed=3, batch_size=4, batch_seconds=1e9,
                               stats=stats)
    assert (stats.submissions, stats.batches) == (6, 2)      # 4, then the 2 left at the end
    assert 0 < stats.gradebook_seconds < stats.seconds and stats.per_second > 0
    assert sorted(stored(course)) == sorted(STUDENTS) == sorted(logged_runs(course))
    assert all(not r.skipped for r in results)


def test_ctrl_c_stores_the_results_already_received(base_course, tmp_path, monkeypatch):
    from autograder.batch import GradingInterrupted
    from autograder.local_graders import LocalGraders

    course = copy_of(base_course, tmp_path)
    real = LocalGraders.wait

    def wait_then_ctrl_c(futures, timeout):
        if len(futures) <= len(STUDENTS) - 2:       # two results came back, none stored yet (see batch_size)
            raise KeyboardInterrupt
        return real(futures, timeout)

    monkeypatch.setattr(LocalGraders, "wait", staticmethod(wait_then_ctrl_c))
    with pytest.raises(GradingInterrupted) as stop:
        grade_assignment(course, ASSIGNMENT, workers=2, seed=3, batch_size=100, batch_seconds=1e9)
    assert (stop.value.done, stop.value.total) == (2, len(STUDENTS))
    first = sorted(logged_runs(course))
    assert len(first) == 2 and all(score is not None for student in first
                                   for gid, score in stored(course)[student].items() if gid.startswith("test_"))
    monkeypatch.setattr(LocalGraders, "wait", staticmethod(real))
    resumed = grade_assignment(course, ASSIGNMENT, workers=2, seed=3)
    assert sorted(r.student for r in resumed if r.skipped) == first
    assert sorted(logged_runs(course)) == sorted(STUDENTS)


def test_a_batch_is_committed_whole_or_not_at_all(base_course, tmp_path, monkeypatch):
    from nbgrader.api import Gradebook

    from autograder.late import LatePolicy

    course = copy_of(base_course, tmp_path)
    results = {r.student: r for r in grade_assignment(course, ASSIGNMENT, workers=2, seed=3)}
    before = stored(course)
    for r in results.values():          # new scores, all zero
        r.scores = dict.fromkeys(r.scores, 0.0)
    calls = []

    def fail_on_second(self, gb, sub, student):
        calls.append(student)
        if len(calls) == 2:
            raise OSError("disk full")

    monkeypatch.setattr(LatePolicy, "assign", fail_on_second)
    with Gradebook("sqlite:///" + os.path.join(course, "gradebook.db"), "rnn-derivatives") as gb:
        with pytest.raises(OSError):
            gradebook.write_grades_many(gb, [results["ana"], results["ben"]], ASSIGNMENT, course_root=course)
    assert stored(course) == before          # ana's zeros were staged, then rolled back with ben's failure


class _Done:
    """A finished future holding ``value``."""

    def __init__(self, value):
        self.value = value

    def result(self):
        return self.value


def test_a_result_that_breaks_the_rules_is_a_zero_with_the_reason(base_course, tmp_path):
    from autograder.course import load_course

    course = load_course(copy_of(base_course, tmp_path), ASSIGNMENT)
    good = grade_assignment(course.root, ASSIGNMENT, students=["ana"], workers=1, seed=3)[0]
    assert batch._received(course, "ana", 3, _Done(good), remote=True) is good
    wrong = [types.SimpleNamespace(student="ana"),
             _replace(good, student="ben"),
             _replace(good, scores={**good.scores, next(iter(good.scores)): 1e9}),
             _replace(good, scores={**good.scores, "extra": 1.0}),
             _replace(good, scores={**good.scores, next(iter(good.scores)): float("nan")}),
             _replace(good, autograded_text=None)]
    for res in wrong:
        got = batch._received(course, "ana", 3, _Done(res), remote=True)
        assert got.student == "ana" and got.total == 0 and not got.not_graded
        assert got.errors[0].startswith("grading failed: the grader returned an unusable result")

    class Lost:
        def result(self):
            raise distributed.KilledWorker("grade-ana", types.SimpleNamespace(address="tcp://127.0.0.1:1"), 3)

    lost = batch._received(course, "ana", 3, Lost(), remote=True)
    assert lost.not_graded.startswith("KilledWorker") and lost.errors == [f"not graded: {lost.not_graded}"]
    with pytest.raises(distributed.KilledWorker):      # a local grader that fails stops the batch, as before
        batch._received(course, "ana", 3, Lost(), remote=False)


def _replace(result, **changes):
    import dataclasses

    return dataclasses.replace(result, **changes)


def _profiler_settings():
    import dask

    return dask.config.get("distributed.worker.profile.enabled"), dask.config.get("distributed.admin.tick.interval")


def test_the_local_cluster_runs_its_workers_without_dasks_profiler():
    """The LocalCluster of ``--dask`` starts its workers with LOCAL_CLUSTER_CONFIG (dask's sampling profiler off),
    and leaves this process's dask configuration as it was."""
    import dask

    from autograder.dask_backend import LOCAL_CLUSTER_CONFIG, local_cluster

    before = _profiler_settings()
    with local_cluster(1) as cluster, distributed.Client(cluster) as client:
        settings = client.run(_profiler_settings)
        assert list(settings.values()) == [(False, LOCAL_CLUSTER_CONFIG["distributed.admin.tick.interval"])]
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
    assert _profiler_settings() == before and dask.config.get("distributed.worker.profile.enabled") is True


def test_only_a_few_submissions_per_worker_thread_are_in_flight(base_course, tmp_path, monkeypatch):
    """The grader packs and sends a submission only when fewer than TASKS_PER_THREAD per worker thread are in
    flight (waiting on every future of a large class at once made each wait cost as much as the class)."""
    from autograder import dask_backend

    course = copy_of(base_course, tmp_path)
    most = []
    real_send = dask_backend.DaskGraders._send

    def send_and_count(self):
        real_send(self)
        most.append(len(self.in_flight))

    monkeypatch.setattr(dask_backend, "TASKS_PER_THREAD", 1)
    monkeypatch.setattr(dask_backend.DaskGraders, "_send", send_and_count)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address="127.0.0.1:0") as cluster, distributed.Client(cluster) as client:
        results = grade_assignment(course, ASSIGNMENT, dask=client, seed=3)
    assert max(most) == 1 and len(results) == len(STUDENTS) and all(r.not_graded is None for r in results)
