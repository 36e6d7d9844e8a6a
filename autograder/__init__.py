"""The course's trusted grader: grades untrusted notebooks against rnngrad, fills nbgrader's gradebook.

Packages by what they do:

* :mod:`autograder.specs` and :mod:`autograder.compare`: what is graded and how a value is judged;
* :mod:`autograder.sandbox`: running the student's code in an isolated worker;
* :mod:`autograder.grade`: the pipeline (snapshot, read, inventory, flag, run, score, record), with
  :mod:`autograder.notebook` (notebooks as data), :mod:`autograder.gradebook` (the only writer of grades)
  and :mod:`autograder.feedback` (the autograded notebooks behind nbgrader's feedback).

Command line: ``python -m autograder grade <set> [--course DIR] [--workers K] [--regrade]``, then
``python -m autograder report <set>``; ``python -m autograder demo`` runs the whole workflow on a demo class.
"""

__all__ = ["grade_assignment", "SubmissionResult"]


def __getattr__(name):
    # imported on first use: the sandbox side and the specs never need nbgrader
    if name in __all__:
        from . import grade
        return getattr(grade, name)
    raise AttributeError(f"module 'autograder' has no attribute {name!r}")
