"""A graded course for the export, flag and feedback tests: a due date, a late submission under a course plugin,
a flagged submission whose code copies hidden inputs into a path it opens, names and LMS ids, grader's scores,
and nbgrader's ``submission_secret.txt`` in each submission (as ``nbgrader submit`` and ``collect`` leave it).

``make_graded_course(tmp)`` builds it with nbgrader and the pipeline and returns the course root.
"""
from __future__ import annotations

import os
import secrets
import shutil

from autograder.grade import grade_assignment
from redteam import factory
from redteam.corpus import CORRECT, Entry

ASSIGNMENT = factory.ASSIGNMENT
DUE = "2026-03-02 10:00:00 UTC"
LATE_STAMP = "2026-03-02 11:30:00.000000 UTC"       # 1.5 hours late: 2 points under PerHour
SEED = 5
PLUGIN = os.path.join(os.path.dirname(__file__), "late_policy_plugin.py")
POLICY = 'c.AssignLatePenalties.plugin_class = "late_policy_plugin.PerHour"'

#: opens a path spelled from its input: the sandbox reports it (a behaviour flag quoting hidden inputs)
SPELLER = ('def softmax(logits):\n'
           '    try:\n'
           '        open("/leak_" + "_".join(repr(float(v)) for v in logits.ravel()[:4]))\n'
           '    except OSError:\n'
           '        pass\n' + CORRECT["softmax"].split("\n", 1)[1])
#: prints and raises its inputs, and spells one in a returned shape (as in test_grade)
LEAKY = {"softmax": "def softmax(logits):\n    print(repr(logits.tolist()))\n"
                    "    raise ValueError(repr(logits.tolist()))\n",
         "softmax_jacobian": "def softmax_jacobian(logits):\n"
                             "    return np.zeros((0, int(abs(logits[0, 0]) * 1e6)))\n"}
PARTIAL = {"softmax_vjp": "def softmax_vjp(logits, v):\n    return softmax(logits) * v\n"}

SUBMISSIONS = {   # student -> (entry, timestamp)
    "ana": (Entry("ana", "correct"), factory.TIMESTAMP),
    "ben": (Entry("ben", "partial", answers=PARTIAL), factory.TIMESTAMP),
    "cy": (Entry("cy", "correct, late"), LATE_STAMP),
    "dee": (Entry("dee", "spells hidden inputs in a path", answers={"softmax": SPELLER}), factory.TIMESTAMP),
    "eli": (Entry("eli", "leaks through feedback", base="wrong", answers=LEAKY), factory.TIMESTAMP),
}
#: student -> (first name, last name, email, LMS user id); "fay" never submitted
PEOPLE = {
    "ana": ("Ana", "Lima", "ana@example.edu", "1001"),
    "ben": ("Ben", "Okafor", "ben@example.edu", "1002"),
    "cy": ("Cy", "Park", "cy@example.edu", None),
    "dee": ("Dee", "Quinn", "dee@example.edu", "1004"),
    "eli": ("Eli", "Ross", None, None),
    "fay": ("Fay", "Stone", "fay@example.edu", "1006"),
}


def gradebook(course):
    from nbgrader.api import Gradebook
    return Gradebook("sqlite:///" + os.path.join(course, "gradebook.db"), "rnn-derivatives")


def make_graded_course(tmp: str) -> str:
    """The course, graded, with a grader's manual scores (one of 1/3, to check that every digit is kept)."""
    course = factory.make_course(tmp)
    shutil.copy(PLUGIN, course)
    with open(os.path.join(course, "nbgrader_config.py"), "a") as fh:
        fh.write("\n" + POLICY + "\n")
    for student, (entry, stamp) in SUBMISSIONS.items():
        folder = factory.make_submission(course, student, entry, timestamp=stamp)
        with open(os.path.join(folder, "submission_secret.txt"), "w") as fh:   # as nbgrader submit leaves it
            fh.write(secrets.token_hex(64))
    with gradebook(course) as gb:
        gb.update_or_create_assignment(ASSIGNMENT, duedate=DUE)
        for student, (first, last, email, lms) in PEOPLE.items():
            gb.update_or_create_student(student, first_name=first, last_name=last, email=email, lms_user_id=lms)
    grade_assignment(course, ASSIGNMENT, workers=2, seed=SEED)
    with gradebook(course) as gb:
        gb.find_grade("derivation_1", ASSIGNMENT, ASSIGNMENT, "ana").manual_score = 1 / 3
        ben = gb.find_grade("derivation_1", ASSIGNMENT, ASSIGNMENT, "ben")
        ben.manual_score, ben.extra_credit = 4.0, 0.25
        gb.find_grade("test_softmax_vjp", ASSIGNMENT, ASSIGNMENT, "ben").manual_score = 2.0
        gb.find_comment("derivation_1", ASSIGNMENT, ASSIGNMENT, "ben").manual_comment = "Part (c) is missing."
        gb.db.commit()
    return course
