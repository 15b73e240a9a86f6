"""`python -m claret_errors` runs the same CLI as the `claret-errors` script."""

from claret_errors.cli import run_main

run_main()
