"""The reconcile stage: every input row imported, failed or unaccounted; each message classified and routed.

`accounting.reconcile` is the entry point; `classify` holds the rule engine (its packs in `rules/`),
`owners` the routes.
"""
