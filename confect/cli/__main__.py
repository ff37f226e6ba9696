"""`python -m confect.cli`: the `confect` command line."""

from confect.cli import main

main()
