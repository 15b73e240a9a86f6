"""The deliver stage: each owner's share of a night by e-mail, the data team's digest, a chat summary.

`deliver.notify` is the entry point; `shares` reads the job folders, `compose` writes the messages,
`smtp` and `webhook` send them, `ledger` makes sure nobody hears twice.
"""
