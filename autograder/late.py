"""Late submissions: nbgrader's own policy (due date, extensions, ``LateSubmissionPlugin``) applied to our grades.

``nbgrader autograde`` ends each notebook with its ``AssignLatePenalties`` preprocessor: the notebook's
penalty is reset to None and, when the submission is late (``SubmittedAssignment.total_seconds_late``: the
``timestamp.txt`` time past the assignment's due date plus the student's extension), the configured plugin
(``AssignLatePenalties.plugin_class``; nbgrader's ``LateSubmissionPlugin`` with ``penalty_method`` ``none`` or
``zero`` by default, or any class the course's ``nbgrader_config.py`` names) is asked for a penalty, which is
clipped to ``[0, notebook score]``. :class:`LatePolicy` builds that same preprocessor and plugin from the course's
configuration (traitlets), and :meth:`LatePolicy.assign` repeats those steps inside the pipeline's own gradebook
transaction, so a submission graded by the pipeline and one graded by ``nbgrader autograde`` get the same row.

A plugin named by a dotted path (``"late_policy.HalfPerDay"``) is imported with the course directory on the
import path, as when ``python -m nbgrader`` runs in it. The plugin is the instructor's code and runs in the
trusted process; if it raises or answers something that is not a finite number, no penalty is stored and the
reason is returned, for the grader to report.

The penalty is set when a submission is graded. Like ``nbgrader autograde``, a later run skips submissions
already graded, so a due date or an extension changed afterwards takes effect with ``grade --regrade``.
"""
from __future__ import annotations

__all__ = ["LatePolicy", "policy_for", "seconds_late"]

import contextlib
import functools
import logging
import math
import os
import sys
import types

log = logging.getLogger("autograder.late")
CONFIG_FILE = "nbgrader_config.py"


@contextlib.contextmanager
def _course_on_path(root: str):
    """The course directory first on ``sys.path`` for the duration (plugin classes named by a dotted path)."""
    sys.path.insert(0, root)
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(root)


class LatePolicy:
    """The course's late-submission policy, as ``nbgrader autograde`` would apply it.

    Args:
        config: a traitlets ``Config`` (the course's ``nbgrader_config.py``), or None for nbgrader's defaults
            (no penalty).
        root: the course directory, put on the import path while the plugin class is resolved.

    Example:
        >>> LatePolicy(None).penalty("ana", score=10.0, seconds_late=3600.0)
        (None, None)
    """

    def __init__(self, config=None, root: str | None = None):
        from nbgrader.preprocessors import AssignLatePenalties

        with _course_on_path(root) if root else contextlib.nullcontext():
            self.preprocessor = AssignLatePenalties(config=config, log=log) if config is not None \
                else AssignLatePenalties(log=log)
            self.preprocessor.init_plugin()    # nbgrader's own step: plugin_class(parent=preprocessor)
        self.plugin = self.preprocessor.plugin_inst

    @property
    def name(self) -> str:
        """The plugin's class name and, for nbgrader's plugin, its method (``LateSubmissionPlugin(zero)``)."""
        from nbgrader.plugins import LateSubmissionPlugin

        cls = type(self.plugin).__name__
        if type(self.plugin) is LateSubmissionPlugin:
            return f"{cls}({self.plugin.penalty_method})"
        return cls

    def penalty(self, student: str, score: float, seconds_late: float) -> tuple[float | None, str | None]:
        """(penalty to store, None) or (None, why none could be computed) for one notebook.

        Args:
            student: the student's id (passed to the plugin).
            score: the notebook's score (nbgrader's ``SubmittedNotebook.score``, manual scores included).
            seconds_late: ``SubmittedAssignment.total_seconds_late`` (0 when on time).

        Returns:
            nbgrader's stored value: None when on time or when the plugin gives none, else the plugin's penalty
            clipped to ``[0, score]`` by nbgrader's ``AssignLatePenalties._check_late_penalty``.

        Example:
            >>> LatePolicy(None).penalty("ana", 4.0, 0.0)
            (None, None)
        """
        if not seconds_late > 0:
            return None, None
        try:
            value = self.plugin.late_submission_penalty(student, score, seconds_late)
            if value is None:
                return None, None
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise TypeError(f"the penalty must be a finite number or None, not {value!r:.60}")
            value = self.preprocessor._check_late_penalty(types.SimpleNamespace(score=score), value)
        except Exception as exc:  # the instructor's plugin: one student's failure never stops the class
            return None, (f"the late-submission penalty was not applied: {self.name} raised "
                          f"{type(exc).__name__}: {str(exc)[:200]}")
        return float(value), None

    def assign(self, gb, submitted_notebook, student: str) -> str | None:
        """Set ``late_submission_penalty`` of one submitted notebook as nbgrader's ``AssignLatePenalties`` does.

        Reads the submission's lateness and, when it is late, the notebook's score from ``gb``'s session (pending
        changes flushed), writes the penalty, does not commit. Returns None, or why no penalty could be computed.

        Args:
            gb: an open nbgrader ``Gradebook``.
            submitted_notebook: the ``SubmittedNotebook`` row, in ``gb``'s session.
            student: the student's id.
        """
        from nbgrader.api import SubmittedNotebook

        submitted_notebook.late_submission_penalty = None      # nbgrader's reset
        late = seconds_late(submitted_notebook.assignment)
        if not late > 0:            # on time: nbgrader asks the plugin nothing (and the score is not needed)
            return None
        gb.db.flush()
        score = gb.db.query(SubmittedNotebook.score).filter(SubmittedNotebook.id == submitted_notebook.id).scalar()
        value, problem = self.penalty(student, float(score or 0.0), late)
        submitted_notebook.late_submission_penalty = value
        return problem


def seconds_late(submission) -> float:
    """nbgrader's ``SubmittedAssignment.total_seconds_late``; 0 where nbgrader cannot compute it (an extension
    on an assignment without a due date).

    Example:
        >>> seconds_late(types.SimpleNamespace(total_seconds_late=30.0))
        30.0
    """
    try:
        return float(submission.total_seconds_late)
    except TypeError:
        return 0.0


def _config_stamp(root: str) -> tuple:
    try:
        st = os.stat(os.path.join(root, CONFIG_FILE))
    except OSError:
        return (None,)
    return (st.st_mtime_ns, st.st_size, st.st_ino)


@functools.lru_cache(maxsize=16)
def _cached_policy(root: str, _stamp: tuple) -> LatePolicy:
    from traitlets.config.loader import ConfigFileNotFound, PyFileConfigLoader

    try:
        config = PyFileConfigLoader(CONFIG_FILE, path=root).load_config()
    except ConfigFileNotFound:
        config = None
    return LatePolicy(config, root=root)


def policy_for(course_root: str) -> LatePolicy:
    """The late policy of the course at ``course_root`` (read once, and again when its config file changes).

    Example:
        >>> policy_for("assignments").name
        'LateSubmissionPlugin(none)'
    """
    root = os.path.abspath(course_root)
    return _cached_policy(root, _config_stamp(root))
