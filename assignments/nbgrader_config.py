"""nbgrader configuration of the course directory (this folder).

The course's graded notebooks live in source/<set>/<set>.ipynb. Student code is graded by the course's own
pipeline (python -m autograder grade <set>), which runs it in an isolated worker and writes the grades
through nbgrader's gradebook; nbgrader's autograde also works and uses the visible checks only.

The checker ``rnncheck.py`` exists once, in this folder: ``generate_assignment`` copies it next to each
released notebook (:func:`ship_checker`), and the kernels nbgrader starts (``validate`` of a source notebook)
find it at the end of their path.
"""
import json
import os
import shutil

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKER = os.path.join(HERE, "rnncheck.py")


def ship_checker(assignment, student=None, notebooks=None):
    """Copy the course's rnncheck.py into release/<assignment>/, with the mode of the released notebook."""
    release = os.path.join(HERE, "release", assignment)
    target = os.path.join(release, "rnncheck.py")
    shutil.copyfile(CHECKER, target)
    notebook = os.path.join(release, f"{assignment}.ipynb")
    os.chmod(target, os.stat(notebook).st_mode & 0o777 if os.path.exists(notebook) else 0o644)


c.CourseDirectory.course_id = "rnn-derivatives"
c.CourseDirectory.root = HERE
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(HERE, "gradebook.db")
# the fixtures are released with each notebook, and the checker is copied beside them
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback"]
c.CourseDirectory.include = ["*"]
c.GenerateAssignment.post_convert_hook = ship_checker
# the checker, for kernels started in source/<set>/ (after the notebook's own folder, which a release fills)
c.Execute.extra_arguments = [
    "--InteractiveShellApp.exec_lines=" + json.dumps([f"import sys; sys.path.append({HERE!r})"])]
# the solution region and the text nbgrader leaves in its place
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
# students cannot change the test and rubric cells: they are restored from the source before grading
c.LockCells.lock_grade_cells = True
c.LockCells.lock_readonly_cells = True
c.Execute.timeout = 60
