"""Text from the trace made safe for a terminal: control characters shown, never obeyed.

Request paths, parameters and headers in the trace come from whoever sent the request: any
web page can make a browser request `/?x=%1B[2J` with an `<img>` tag, and printed raw that
clears the teacher's projector (or fakes colours, or moves the cursor). Every terminal
output of trace text goes through `printable`: C0 and C1 control characters, DEL and the
Unicode bidirectional overrides (which can make text read differently from what it is) are
replaced by visible escapes such as `\\x1b` and `\\u202e`.
"""

from __future__ import annotations

import re

#: C0 controls, DEL, C1 controls, and the bidi embedding/override/isolate characters.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object) -> str:
    """`text` as a string with every unsafe character replaced by a visible escape."""
    return _UNSAFE.sub(_escape, str(text))
