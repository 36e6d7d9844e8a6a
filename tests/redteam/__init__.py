"""Red-team corpus for the grading pipeline (data and factories; nothing here runs student code)."""
