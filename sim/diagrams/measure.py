"""Text width estimates, so the layout can size every box before Graphviz draws it.

The layout pins every node and gives each label a fixed size, so the widths must be known
in advance and must not depend on which Graphviz (system or WebAssembly) renders the SVG,
nor on which font the viewer substitutes. The tables below hold, per ASCII character, the
larger of the Helvetica width and the DejaVu Sans width (DejaVu Sans is what Linux viewers
usually draw for "Helvetica"), in thousandths of the font size: a box sized from them holds
its text in either font.
"""

from __future__ import annotations

# Characters 32..126, regular and bold, max(Helvetica AFM, DejaVu Sans) widths per 1000 em.
_REGULAR = (
    318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337,
    636, 636, 636, 636, 636, 636, 636, 636, 636, 636, 337, 337, 838, 838, 838, 556,
    1015, 684, 686, 722, 770, 667, 611, 778, 752, 295, 500, 667, 557, 863, 748, 787,
    667, 787, 722, 667, 611, 732, 684, 989, 685, 667, 685, 390, 337, 390, 838, 556,
    500, 613, 635, 550, 635, 615, 352, 635, 634, 278, 278, 579, 278, 974, 634, 612,
    635, 635, 411, 521, 392, 634, 592, 818, 592, 592, 525, 636, 337, 636, 838,
)  # fmt: skip
_BOLD = (
    348, 456, 521, 838, 696, 1002, 872, 306, 457, 457, 523, 838, 380, 415, 380, 365,
    696, 696, 696, 696, 696, 696, 696, 696, 696, 696, 400, 400, 838, 838, 838, 580,
    1015, 774, 762, 734, 830, 683, 683, 821, 837, 372, 500, 775, 637, 995, 837, 850,
    733, 850, 770, 720, 682, 812, 774, 1103, 771, 724, 725, 457, 365, 457, 838, 556,
    500, 675, 716, 593, 716, 678, 435, 716, 712, 343, 343, 665, 343, 1042, 712, 687,
    716, 716, 493, 595, 478, 712, 652, 924, 645, 652, 582, 712, 365, 712, 838,
)  # fmt: skip
#: Anything outside ASCII (arrows, ellipsis, check marks) is budgeted as a full em.
_WIDE = 1000


def text_width(text: str, size: float, bold: bool = False) -> float:
    """Width in points of one line of `text` at `size` points."""
    table = _BOLD if bold else _REGULAR
    units = 0
    for char in text:
        code = ord(char)
        units += table[code - 32] if 32 <= code < 127 else _WIDE
    return units * size / 1000.0
