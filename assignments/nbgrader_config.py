"""nbgrader configuration of the course directory (this folder).

The course's graded notebooks live in source/<set>/<set>.ipynb. Student code is graded by the course's own
pipeline (python -m autograder grade <set>), which runs it in an isolated worker and writes the grades
through nbgrader's gradebook; nbgrader's autograde also works and uses the visible checks only.
"""
import os

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

HERE = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.course_id = "rnn-derivatives"
c.CourseDirectory.root = HERE
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(HERE, "gradebook.db")
# the checker and its fixtures are released with each notebook
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback"]
c.CourseDirectory.include = ["*"]
# the solution region and the text nbgrader leaves in its place
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
# students cannot change the test and rubric cells: they are restored from the source before grading
c.LockCells.lock_grade_cells = True
c.LockCells.lock_readonly_cells = True
c.Execute.timeout = 60
