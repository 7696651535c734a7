"""DataJoint's diagram notation: colors and shapes by tier, edge styles, and text sizes.

Text is measured with a conservative per-character width table so that labels fit their
boxes in any sans-serif font a browser or rasterizer picks.
"""

from __future__ import annotations

from dataclasses import dataclass

FONT_FAMILY = "Helvetica, Arial, 'DejaVu Sans', sans-serif"


@dataclass(frozen=True)
class TierStyle:
    fill: str
    stroke: str
    text: str
    shape: str  # "box" (rounded box), "stadium" (ellipse-like), "small", "dot", "stack"
    font_size: float
    min_width: float
    height: float


TIERS = {
    "manual": TierStyle("#E8F0E9", "#3E7A52", "#1F4A2C", "box", 13, 60, 30),
    "lookup": TierStyle("#ECECEC", "#6E6E6E", "#333333", "box", 13, 60, 30),
    "imported": TierStyle("#E0F4FC", "#00A0DF", "#00506F", "stadium", 13, 70, 32),
    "computed": TierStyle("#FFE8E0", "#D9381E", "#7A1D0C", "stadium", 13, 70, 32),
    "part": TierStyle("#FFFFFF", "#8A8A8A", "#333333", "small", 10.5, 36, 20),
    "collapsed": TierStyle("#F4F1FA", "#6B5B95", "#3B2F5C", "stack", 13, 90, 36),
    None: TierStyle("#FFF7C2", "#B59A00", "#5C4E00", "dot", 10.5, 36, 20),
}

EDGE_COLOR = "#555555"
RENAMED_COLOR = "#E08A00"
CLUSTER_STROKE = "#9A9A9A"
CLUSTER_FILL = "#FAFAFA"
CLUSTER_FONT_SIZE = 12
CLUSTER_LABEL_HEIGHT = 18


def tier_style(tier):
    return TIERS.get(tier, TIERS[None])


# Character widths as fractions of the font size (generous, so text never overflows).
_NARROW = set("iljtfrI.,:;'|!()[] ")
_WIDE = set("mwMW@%")


def text_width(text, font_size):
    """An upper estimate of the rendered width of `text` in a sans-serif font."""
    total = 0.0
    for char in text:
        if char in _NARROW:
            total += 0.36
        elif char in _WIDE:
            total += 0.95
        elif char.isupper() or char.isdigit():
            total += 0.72
        else:
            total += 0.6
    return total * font_size


def node_size(label, tier):
    """(width, height) of a node box that fits its label."""
    style = tier_style(tier)
    padding = {"stadium": 30, "stack": 26}.get(style.shape, 18 if style.shape == "box" else 12)
    width = max(style.min_width, text_width(label, style.font_size) + padding)
    return round(width, 1), style.height
