"""Canvas gradebook CSV: a new one, or the CSV exported from Canvas with the course's scores filled in.

A new file has Canvas's columns ``Student, ID, SIS User ID, SIS Login ID, Section``, then one column per
assignment, a ``Points Possible`` row, and one row per student of the gradebook: the name as "Last, First",
the LMS user id nbgrader keeps (``Student.lms_user_id``) as ``ID``, and the nbgrader id as ``SIS Login ID``.

Given a CSV exported from Canvas (``template``), every row and column of it is kept: each student row is
matched to a gradebook student by, in turn, ``SIS Login ID`` (the nbgrader id), ``ID`` (the LMS user id),
``SIS User ID`` and the name (when exactly one gradebook student has it), and its cell of each assignment
column is set; an assignment column is the one whose header is the assignment's name or starts with
"<name> (" (Canvas adds its own id), and is added at the end when there is none. Rows that match nobody,
names that match more than one student, and gradebook students with a submission that no row matched are
reported (``problems``). The score is nbgrader's (after the late penalty), with every digit kept.

With nbgrader: ``nbgrader export --exporter autograder.exports.CanvasExportPlugin --to canvas.csv`` (add
``--CanvasExportPlugin.template=exported_from_canvas.csv`` to fill one in).
"""
from __future__ import annotations

__all__ = ["CanvasExportPlugin", "FIXED_COLUMNS", "canvas_name", "fill_canvas"]

import csv
import io

from traitlets import Unicode

from . import rows
from .base import CourseExportPlugin, write_text_atomic

FIXED_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
POINTS_POSSIBLE = "    Points Possible"
#: largest Canvas CSV read (bytes): a course of thousands of students is far below it
MAX_TEMPLATE_BYTES = 64 * 1024 * 1024


def canvas_name(student) -> str:
    """A student's name as Canvas writes it ("Last, First"), or the id when the gradebook has no name.

    Example:
        >>> import types
        >>> canvas_name(types.SimpleNamespace(id="ana", first_name="Ana", last_name="Lima"))
        'Lima, Ana'
    """
    first, last = (student.first_name or "").strip(), (student.last_name or "").strip()
    if first and last:
        return f"{last}, {first}"
    return last or first or student.id


def _fold(text) -> str:
    return " ".join(str(text or "").split()).casefold()


def _is_student_row(row: dict) -> bool:
    """Canvas's own rows (points possible, muted/manual posting) have no ID or login."""
    if (row.get("Student") or "").strip().startswith("Points Possible"):
        return False
    return any((row.get(k) or "").strip() for k in ("ID", "SIS User ID", "SIS Login ID"))


class _Matcher:
    """Finds the gradebook student of a Canvas row (see the module's notes for the order)."""

    def __init__(self, students):
        self.by_id = {s.id: s for s in students}
        self.by_fold_id = {}
        for s in students:
            self.by_fold_id.setdefault(_fold(s.id), []).append(s)
        self.by_lms = {}
        for s in students:
            if s.lms_user_id:
                self.by_lms.setdefault(str(s.lms_user_id).strip(), []).append(s)
        self.by_name = {}
        for s in students:
            names = {_fold(canvas_name(s))}
            if s.first_name and s.last_name:
                names.add(_fold(f"{s.first_name} {s.last_name}"))
            for n in names:
                self.by_name.setdefault(n, []).append(s)

    def __call__(self, row: dict):
        """(student or None, reason when None)."""
        login, lms, sis = ((row.get(k) or "").strip() for k in ("SIS Login ID", "ID", "SIS User ID"))
        if login and login in self.by_id:
            return self.by_id[login], None
        if login and len(self.by_fold_id.get(_fold(login), [])) == 1:
            return self.by_fold_id[_fold(login)][0], None
        if lms and len(self.by_lms.get(lms, [])) == 1:
            return self.by_lms[lms][0], None
        if sis and sis in self.by_id:
            return self.by_id[sis], None
        if sis and len(self.by_lms.get(sis, [])) == 1:
            return self.by_lms[sis][0], None
        named = self.by_name.get(_fold(row.get("Student")), [])
        if len(named) == 1:
            return named[0], None
        if len(named) > 1:
            return None, f"{len(named)} gradebook students have this name"
        return None, "no gradebook student has this login, id or name"


def _assignment_column(header: list[str], name: str) -> int | None:
    for k, title in enumerate(header):
        t = title.strip()
        if t == name or t.startswith(name + " ("):
            return k
    return None


def fill_canvas(template_text: str, assignments, students, totals, missing: str = "") -> tuple[str, list[str]]:
    """Fill a Canvas CSV export; returns (the CSV text, problem lines).

    Args:
        template_text: the CSV exported from Canvas (a leading byte-order mark is dropped).
        assignments: nbgrader ``Assignment`` rows to fill.
        students: nbgrader ``Student`` rows that may match.
        totals: assignment name -> student id -> :class:`~autograder.exports.rows.Total`.
        missing: the text for a matched student without a submission.
    """
    reader = csv.reader(io.StringIO(template_text.lstrip("\ufeff")))
    table = [row for row in reader]
    if not table or not all(c in [h.strip() for h in table[0]] for c in ("Student", "ID")):
        raise ValueError("the Canvas CSV must start with a header row that has the columns Student and ID "
                         "(export the gradebook from Canvas)")
    header = [h.strip() for h in table[0]]
    width = len(header)
    body = [row + [""] * (width - len(row)) for row in table[1:]]
    columns = {}
    for a in assignments:
        k = _assignment_column(header, a.name)
        if k is None:
            header.append(a.name)
            for row in body:
                row.append("")
            k = len(header) - 1
            for row in body:
                if row[header.index("Student")].strip().startswith("Points Possible"):
                    row[k] = rows.number(a.max_score or 0.0)
        columns[a.name] = k
    match = _Matcher(students)
    problems, seen = [], {}
    for n, row in enumerate(body, start=2):
        record = dict(zip(header, row))
        if not _is_student_row(record):
            continue
        student, why = match(record)
        if student is None:
            problems.append(f"row {n} ({record.get('Student', '').strip() or '?'}) not filled: {why}")
            continue
        if student.id in seen:
            problems.append(f"row {n} ({record.get('Student', '').strip()}) not filled: student {student.id} "
                            f"already matched row {seen[student.id]}")
            continue
        seen[student.id] = n
        for a in assignments:
            total = totals[a.name][student.id]
            row[columns[a.name]] = rows.number(total.score) if total.submitted else missing
    for s in students:
        if s.id not in seen and any(totals[a.name][s.id].submitted for a in assignments):
            problems.append(f"student {s.id} ({canvas_name(s)}) has a submission but no row of the Canvas CSV")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(body)
    return out.getvalue(), problems


class CanvasExportPlugin(CourseExportPlugin):
    """nbgrader exporter: a Canvas gradebook CSV, new or filled in (default ``exports/canvas_grades.csv`` in the
    course)."""

    default_to = "canvas_grades.csv"
    template = Unicode("", help="a gradebook CSV exported from Canvas, to fill in (default: write a new "
                                "one)").tag(config=True)

    def export(self, gradebook) -> None:
        assignments, students = self.assignments(gradebook), self.students(gradebook)
        totals = {a.name: rows.totals(gradebook, a, students) for a in assignments}
        if self.template:
            with open(self.template, encoding="utf-8-sig", newline="") as fh:
                text = fh.read(MAX_TEMPLATE_BYTES + 1)
            if len(text) > MAX_TEMPLATE_BYTES:
                raise ValueError(f"the Canvas CSV {self.template} is larger than {MAX_TEMPLATE_BYTES} bytes")
            out, problems = fill_canvas(text, assignments, students, totals, self.missing)
            for line in problems:
                self.report(line)
        else:
            out = self.new_csv(assignments, students, totals)
        self.written = [write_text_atomic(self.destination(gradebook), out)]
        self.log.info("Wrote the Canvas gradebook %s", self.written[0])

    def new_csv(self, assignments, students, totals) -> str:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(FIXED_COLUMNS + [a.name for a in assignments])
        writer.writerow([POINTS_POSSIBLE, "", "", "", ""] + [rows.number(a.max_score or 0.0) for a in assignments])
        for s in students:
            writer.writerow([canvas_name(s), s.lms_user_id or "", "", s.id, ""]
                            + [self.total_text(totals[a.name][s.id]) for a in assignments])
        return buf.getvalue()
