"""The reconcile stage: every input row imported, failed or unaccounted; each message classified and routed.

`accounting.reconcile` is the entry point; `classify` holds the rule engine (its packs, Laravel's
templates, advice and fallback cues are data in `rules/`), `guess` the fallback for unknown wordings,
`advice` what a person does about each message, `explain` one message's classification in full, `owners`
the routes.
"""
