"""What the demo prints at the end: the grade table and where each output is.

The table's numbers are nbgrader's gradebook after the instructor's review: per set and student, the autograded
points, the points given by hand, the late penalty, the score (nbgrader's: raw minus penalty, as in
``grades.csv`` and every export), formgrader's flag, and what the demo student did.
"""
from __future__ import annotations

__all__ = ["grade_table", "where_lines"]

import os

from .points import points


def _cell(value: float | None, sign: str = "") -> str:
    return "-" if value is None else f"{sign}{value:.2f}"


def grade_table(result) -> str:
    """The grade table of a :class:`autograder.demo.DemoResult` (one block per set).

    Columns: student, autograded points, points by hand (``-``: none yet), late penalty, score, ``flagged``,
    what the demo student did.
    """
    lines = []
    for assignment, results in result.results.items():
        who = {s.student: s for s in result.roster[assignment]}
        totals = result.totals.get(assignment, {})
        hand = result.hand_scores.get(assignment, {})
        top = max((r.max_total for r in results), default=0)
        maximum = next((t.max_score for t in totals.values()), top)
        width = max([len(r.student) for r in results] + [len("student")])
        if lines:
            lines.append("")
        due = result.due.get(assignment)
        head = f"{assignment}: {points(maximum)} points ({points(top)} autograded, {points(maximum - top)} by hand)"
        if due is not None:
            head += f"; due {due:%Y-%m-%d %H:%M} UTC, late policy {result.late_policy}"
        lines.append(head)
        lines.append(f"  {'student':<{width}} {'auto':>6} {'hand':>6} {'late':>6} {'score':>6}  flagged  "
                     "what the student did")
        for r in results:
            total = totals.get(r.student)
            penalty = total.late_submission_penalty if total is not None and total.late_submission_penalty else None
            score = total.score if total is not None else None
            flagged = "flagged" if total is not None and total.flagged else ""
            lines.append(f"  {r.student:<{width}} {r.total:6.2f} {_cell(hand.get(r.student)):>6} "
                         f"{_cell(penalty, '-'):>6} {_cell(score):>6}  {flagged:<7}  "
                         f"{who[r.student].description if r.student in who else ''}")
    return "\n".join(lines)


def where_lines(result, rel=os.path.relpath) -> list[str]:
    """The "where each output is" lines of a :class:`autograder.demo.DemoResult`; ``rel`` shows a path."""
    course = result.course
    plugin_file = os.path.join(course, result.late_plugin.split(".")[0] + ".py")
    rows = [("course directory", rel(course)),
            ("submissions", f"{rel(os.path.join(course, 'submitted'))}/<student>/<set>/"),
            ("who is who", rel(os.path.join(result.directory, "demo_class.json"))),
            ("late policy", f"{rel(os.path.join(course, 'nbgrader_config.py'))} names {rel(plugin_file)}"),
            ("gradebook", f"{rel(os.path.join(course, 'gradebook.db'))} (scores, late penalties, flags, hand grading)"),
            ("grading log", f"{rel(os.path.join(course, 'grading_log'))}/<set>/"),
            ("feedback (HTML)", f"{rel(os.path.join(course, 'feedback'))}/<student>/<set>/<set>.html"),
            ("grades (CSV export)", rel(result.csv))]
    labels = {"canvas": "Canvas gradebook", "moodle": "Moodle grade import", "questions": "one row per question",
              "gradescope": "Gradescope results", "feedback": "one feedback file per student"}
    patterns = {"gradescope": os.path.join("gradescope", "<set>", "<student>", "results.json"),
                "feedback": os.path.join("feedback", "<set>", "<student>.html")}
    for fmt, paths in result.exports.items():
        if len(paths) == 1:
            shown = rel(paths[0])
        elif fmt in patterns:
            shown = f"{rel(os.path.join(course, 'exports'))}/{patterns[fmt]} ({len(paths)} files)"
        else:
            shown = ", ".join(rel(p) for p in paths)
        rows.append((f"export {fmt}", f"{shown}  [{labels.get(fmt, fmt)}]"))
    for assignment, paths in result.reports.items():
        rows.append((f"report {assignment}", f"{rel(paths['html'])} (+ report.md, figures/)"))
    rows.append((".gitignore", f"{rel(os.path.join(course, '.gitignore'))} (keeps student data out of git)"))
    width = max(len(label) for label, _ in rows)
    return [f"  {label:<{width}}  {text}" for label, text in rows]
