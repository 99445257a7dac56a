"""The options that shape a written diagram (`--compact`, `--steps`, `--side-by-side`), shared
by the commands that write one, and the one call that writes it."""

from __future__ import annotations

import click

import sim


class StepRange(click.ParamType):
    """`3-8` (steps 3 to 8), `5` (step 5 alone) or `5-` (step 5 to the end)."""

    name = "FIRST-LAST"

    def convert(self, value, param, ctx) -> tuple[int, int]:
        if isinstance(value, tuple):
            return value
        first, dash, last = str(value).partition("-")
        try:
            low = int(first)
            high = int(last) if last else (10**9 if dash else low)
        except ValueError:
            self.fail(f"{value!r} is not a step range such as 3-8", param, ctx)
        if low < 1 or high < low:
            self.fail(f"{value!r}: steps count from 1, the first one comes first", param, ctx)
        return low, high


def diagram_options(command):
    """Add the diagram-shaping options to a click command (as keyword arguments)."""
    for option in reversed(
        (
            click.option(
                "--compact",
                is_flag=True,
                help="Diagram for a projector: fewer parameter lines, long values elided.",
            ),
            click.option(
                "--steps",
                type=StepRange(),
                help="Draw only these steps (numbered as in the step table), e.g. 1-7.",
            ),
            click.option(
                "--side-by-side",
                is_flag=True,
                help="With --compare: panels side by side instead of one above the other.",
            ),
        )
    ):
        command = option(command)
    return command


def write_svg(traces: list, path: str, compare: bool, shape: dict) -> None:
    """The SVG of one trace, or of both runs of a comparison, shaped by the options."""
    steps = shape.get("steps")
    compact = shape.get("compact", False)
    if compare:
        left, right = (sim.only_steps(t, steps) for t in traces)
        sim.compare_svg(
            left,
            right,
            "defence on",
            "defence OFF",
            path,
            stacked=not shape.get("side_by_side", False),
            compact=compact,
        )
    else:
        traces[0].to_svg(path, compact=compact, steps=steps)
