"""The report stage: views computed once from a JobResult, rendered as HTML and Markdown, written atomically.

`write` holds the entry points; `view`, `index` and `tables` compute content, `html` and `markdown` render it.
"""
