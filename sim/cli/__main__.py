"""`python -m sim.cli`: the same as the `oauth-sim` script."""

from sim.cli import main

main()
