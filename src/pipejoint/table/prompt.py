"""Confirmation of destructive actions (delete, drop) on the terminal."""

from __future__ import annotations


def ask_yes_no(question):
    """Ask on the terminal; no terminal (CI, a job) means no. The answer is read through
    ``pipejoint.utils`` (DataJoint's ``dj.utils``), where code written for DataJoint answers it."""
    from .. import utils

    try:
        answer = utils._read(f"{question} [yes, No]: ")
    except EOFError:
        return False
    return answer.strip().lower() in ("yes", "y")
