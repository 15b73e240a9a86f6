"""The fix stage: certain fixes on failed rows, corrected files for Claret, and what a person must fix.

`corrections.fix` is the entry point; `plan` decides per failure signature with the pure `rules`, against the
names `references` collects.
"""
