"""claret-errors: account for every row of a Claret import, explain every failure, correct what can be.

The public API is re-exported here; the CLI is a thin shell over it.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
