"""Resubmission: corrected files sent to Claret as new imports, at most once, recorded in a ledger."""
