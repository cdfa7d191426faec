"""One look for every figure: a 16:9 canvas readable at projector distance, one palette, units on
every axis. Figures are built with plotly; `apply` sets the shared layout."""

from __future__ import annotations

import math
from typing import Any

# Slide size: 16:9 at a resolution where 18 px text stays readable on a projector.
WIDTH, HEIGHT = 1280, 720
# Latin text takes the first font present; Hangul falls through to Noto Sans CJK KR (Debian's
# fonts-noto-cjk, which setup installs), named so that kaleido's Chromium never draws boxes.
CJK_FONT = "Noto Sans CJK KR"
FONT = f"Inter, 'Helvetica Neue', Arial, '{CJK_FONT}', sans-serif"
FONT_SIZE = 18
TITLE_SIZE = 26

# Colour-blind-safe categorical palette (Okabe & Ito), in the order series are drawn.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
# Fixed colours for the quantities the lectures compare, so a reader learns them once.
QUANTITY_COLORS = {
    "params": "#0072B2",
    "macs": "#D55E00",
    "flops": "#D55E00",
    "activations": "#009E73",
    "memory": "#009E73",
    "rf": "#CC79A7",
    "latency": "#E69F00",
}


def apply(fig: Any, title: str, *, x_title: str | None = None, y_title: str | None = None,
          subtitle: str | None = None) -> Any:
    """Shared layout: size, fonts, palette, title (with an optional subtitle line), axis titles."""
    text = f"{title}<br><sup>{subtitle}</sup>" if subtitle else title
    fig.update_layout(
        width=WIDTH,
        height=HEIGHT,
        template="plotly_white",
        colorway=list(PALETTE),
        font={"family": FONT, "size": FONT_SIZE, "color": "#222"},
        title={"text": text, "font": {"size": TITLE_SIZE}, "x": 0.02, "xanchor": "left"},
        margin={"l": 90, "r": 40, "t": 110, "b": 90},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1.0},
    )
    if x_title is not None:
        fig.update_xaxes(title_text=x_title)
    if y_title is not None:
        fig.update_yaxes(title_text=y_title)
    return fig


def ticks_125(low: float, high: float) -> list[float]:
    """1-2-5 ticks covering [low, high] on a log axis."""
    return [m * 10.0**e for e in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
            for m in (1, 2, 5) if low / 2 <= m * 10.0**e <= high * 2]
