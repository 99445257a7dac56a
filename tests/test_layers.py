"""The import graph of `sim/` has no circle and no arrow that runs up a layer.

Every `import` in every module of `sim/` is read (those inside functions too: a lazy import
is still a dependency), resolved to the module of ours it names, and checked against the
layer order below. A failure names the file, the import and the rule, so the fix is plain:
move the code down, or hand the value in from above.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "sim"

#: Bottom to top. A group may import its own modules and any group on a LOWER level, never
#: one on its own level or above: siblings stay independent of each other.
LAYERS: tuple[tuple[str, ...], ...] = (
    # The observer: records, holds and parses exchanges. Depends on nothing of ours.
    ("sim.tracing",),
    # What every party agrees on before any HTTP: the registry, defence switches, helpers.
    (
        "sim.parties",
        "sim.defences",
        "sim.reasons",
        "sim.form_csrf",
        "sim.security_headers",
        "sim.session_cookie",
        "sim.dpop",
        "sim.demo_reset",
        "sim.result",
    ),
    # Readers of traces: pictures and the teaching text (notes, step table, saved traces).
    ("sim.diagrams", "sim.teaching"),
    # A trace that draws itself: the thin layer joining the two readers.
    ("sim.drawing",),
    # The parties (and the classroom console), each its own app; they talk only over HTTP,
    # never import each other.
    (
        "sim.user_agent",
        "sim.authorization_server",
        "sim.resource_server",
        "sim.client",
        "sim.attacker",
        "sim.console",
        "sim.front_door",
    ),
    # The stories played with the parties.
    ("sim.scenarios",),
    # Starts the apps and plays scenarios: the only module importing every app.
    ("sim.runtime",),
    # Runs every scenario to write the committed diagrams; runs the drill's scenarios; plays
    # the protocol by hand for the notebooks.
    ("sim.diagram_set", "sim.drill_set", "sim.notebook"),
    # The public API.
    ("sim",),
    # The command line: calls the public API only (see `test_cli_calls_only_the_public_api`).
    ("sim.cli",),
)

#: Known wrong arrows being removed elsewhere, each with who removes it. The test fails when
#: one of these no longer exists, so the list cannot go stale: delete the line then.
KNOWN: dict[tuple[str, str], str] = {}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def resolve(name: str) -> str | None:
    """The longest module of ours that `name` names (`sim.tracing.Event` -> `sim.tracing`)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(module: str) -> set[str]:
    """The modules of ours that `module` imports, anywhere in its body."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            # `from sim import parties` names the module sim.parties, not sim itself.
            names = [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            target = resolve(name)
            if target is not None and target != module:
                found.add(target)
    return found


GRAPH = {module: imports_of(module) for module in MODULES}


def group_of(module: str) -> tuple[int, str]:
    """(level, group) of a module: the group whose name is its longest prefix."""
    best: tuple[int, str] | None = None
    for level, groups in enumerate(LAYERS):
        for group in groups:
            # `sim` (the public API) is its __init__ alone, not every module under it.
            inside = module.startswith(group + ".") and group != "sim"
            if (module == group or inside) and (best is None or len(group) > len(best[1])):
                best = (level, group)
    assert best is not None, f"{module} is in no layer: add it to LAYERS in {__file__}"
    return best


def test_every_module_has_a_layer() -> None:
    for module in MODULES:
        group_of(module)


def test_no_arrow_runs_up_or_sideways() -> None:
    wrong = []
    for module, targets in GRAPH.items():
        level, group = group_of(module)
        for target in sorted(targets):
            t_level, t_group = group_of(target)
            if t_group == group or t_level < level or (module, target) in KNOWN:
                continue
            where = "up" if t_level > level else "sideways"
            wrong.append(f"{MODULES[module].relative_to(ROOT)} imports {target} ({where})")
    assert not wrong, "imports against the layer order:\n" + "\n".join(wrong)


def test_known_wrong_arrows_still_exist() -> None:
    gone = [f"{a} -> {b} ({who})" for (a, b), who in KNOWN.items() if b not in GRAPH.get(a, ())]
    assert not gone, "fixed, so delete from KNOWN: " + ", ".join(gone)


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iteratively: the components with more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_circle() -> None:
    graph = {m: {t for t in ts if (m, t) not in KNOWN} for m, ts in GRAPH.items()}
    circles = strongly_connected(graph)
    assert not circles, "import circles: " + "; ".join(" <-> ".join(c) for c in circles)


def test_the_circle_finder_finds_circles() -> None:
    """The checker itself can fail: a made-up circle is found, a chain is not."""
    assert strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert strongly_connected({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_tracing_depends_on_nothing_of_ours() -> None:
    outside = {
        f"{m} -> {t}"
        for m, ts in GRAPH.items()
        if group_of(m)[1] == "sim.tracing"
        for t in ts
        if group_of(t)[1] != "sim.tracing"
    }
    assert not outside


@pytest.mark.parametrize("reader", ["sim.diagrams", "sim.teaching"])
def test_readers_of_traces_stand_on_tracing(reader: str) -> None:
    """Diagrams read only traces; the teaching layer reads traces and the shared vocabulary
    (party names, registry, defence names)."""
    shared = set(LAYERS[1]) if reader == "sim.teaching" else set()
    allowed = {"sim.tracing", reader} | shared
    for module, targets in GRAPH.items():
        if group_of(module)[1] == reader:
            used = {group_of(t)[1] for t in targets if (module, t) not in KNOWN}
            assert used <= allowed, module


def test_cli_calls_only_the_public_api() -> None:
    """`oauth-sim` commands import `sim` (the public API) and each other, nothing deeper:
    a command that needs something new gets it added to `sim/__init__.py`."""
    for module, targets in GRAPH.items():
        if group_of(module)[1] == "sim.cli":
            deeper = {
                t
                for t in targets
                if t != "sim" and not t.startswith("sim.cli") and (module, t) not in KNOWN
            }
            assert not deeper, f"{module} imports {sorted(deeper)}: export it from sim"


def test_public_names_are_not_shadowed_by_subpackages() -> None:
    """`import sim.console` sets the attribute `sim.console`: a function of that name in
    `sim/__init__.py` would be replaced by the module the first time anything imports it."""
    import sim

    children = {m.split(".")[1] for m in MODULES if m.count(".") >= 1}
    clashes = {name for name in sim.__all__ if name in children and name != "parties"}
    assert clashes <= {"scenarios"} and callable(sim.scenarios)
