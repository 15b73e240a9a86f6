"""The load stage: a job folder (or a plain folder of CSVs) into text frames, every row tied to its input row.

`job.load_job` is the entry point; `csvread` reads one file, `detect` learns row links and message layouts.
"""
