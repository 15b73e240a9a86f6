"""The Claret API: typed status models (`models`), artifact URL safety (`urls`) and the async httpx client
(`client`).

Empty on purpose: importing `claret_errors.claret.models` must not load the client (httpx, stamina), which
the offline stages never need. Import each name from its module.
"""
