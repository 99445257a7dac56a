"""`oauth-sim`: run the parties for a class, run a scenario headless, draw the diagrams.

One module per command; this one only assembles the group. User mistakes (unknown
scenario, port in use, bad flag, malformed trace file) print one clear line and exit 2
(`sim.cli.common.fail`); everything else is a bug and may show a traceback.
"""

from __future__ import annotations

import click

import sim
from sim.cli.cheatsheet import cheatsheet
from sim.cli.common import EXIT_USAGE, fail
from sim.cli.diagrams import diagrams
from sim.cli.drill import drill
from sim.cli.explain import explain
from sim.cli.notebooks import notebooks
from sim.cli.run import list_scenarios, run
from sim.cli.trace import trace
from sim.cli.up import up


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(sim.__version__, prog_name="oauth-sim")
def main() -> None:
    """An OAuth 2.0 authorization code flow with all four parties running on loopback:
    browser (user agent), client, authorization server, resource server. Every exchange is
    traced and drawn as a sequence diagram.

    \b
    Start here:
      oauth-sim run happy-path --explain     one login, step by step, with RFC references
      oauth-sim up                            the parties, for your own browser
      oauth-sim scenarios                     every flow and attack you can run
      oauth-sim explain                       the two-minute answer to "explain OAuth"
      oauth-sim drill                         interview questions from real runs
    """


for command in (up, list_scenarios, run, diagrams, trace, drill, explain, cheatsheet, notebooks):
    main.add_command(command)

__all__ = ["EXIT_USAGE", "fail", "main"]
