"""Figures for the notebooks. Each function draws on a new figure and returns it, so notebooks stay short."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np


def plot_activation(f, f_prime, name="sigma", z=None):
    """The activation and its derivative side by side, on one axis."""
    z = np.linspace(-8, 8, 401) if z is None else z
    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.plot(z, f(z), label=f"${name}(z)$")
    ax.plot(z, f_prime(z), label=f"${name}'(z)$")
    ax.axhline(0, color="0.8", lw=0.8)
    ax.axvline(0, color="0.8", lw=0.8)
    ax.set_xlabel("$z$")
    ax.legend()
    ax.set_title("The activation and its slope")
    fig.tight_layout()
    return fig


def draw_network_221(params=None, values=None):
    """The 2-2-1 network as a graph: inputs x1, x2, hidden h1, h2, output o1, edges labelled w1..w6."""
    pos = {"x1": (0, 1), "x2": (0, 0), "h1": (1, 1), "h2": (1, 0), "o1": (2, 0.5)}
    edges = [("x1", "h1", "w1"), ("x2", "h1", "w2"), ("x1", "h2", "w3"), ("x2", "h2", "w4"),
             ("h1", "o1", "w5"), ("h2", "o1", "w6")]
    fig, ax = plt.subplots(figsize=(6, 3.2))
    for a, b, w in edges:
        (x0, y0), (x1, y1) = pos[a], pos[b]
        ax.annotate("", xy=(x1 - 0.12, y1 + (y0 - y1) * 0.12), xytext=(x0 + 0.12, y0 + (y1 - y0) * 0.12),
                    arrowprops=dict(arrowstyle="->", color="0.4"))
        label = w if params is None else f"{w}={params[w]:.2g}"
        t = 0.3 if b == "o1" else (0.25 if w in ("w1", "w4") else 0.7)
        ax.text(x0 + (x1 - x0) * t, y0 + (y1 - y0) * t + 0.06, label, fontsize=9, ha="center", color="C3")
    for node, (x, y) in pos.items():
        ax.add_patch(plt.Circle((x, y), 0.12, color="C0" if node[0] != "x" else "C2", alpha=0.85))
        text = node if values is None or node not in values else f"{node}\n{values[node]:.3f}"
        ax.text(x, y, text, ha="center", va="center", color="white", fontsize=8, fontweight="bold")
    ax.text(1, -0.35, "biases b1, b2 (hidden) and b3 (output); sigmoid at every unit", ha="center", fontsize=8)
    ax.set_xlim(-0.4, 2.4)
    ax.set_ylim(-0.5, 1.35)
    ax.set_aspect("equal")
    ax.axis("off")
    fig.tight_layout()
    return fig


def plot_losses(losses, title="Training loss", xlabel="epoch", logy=True):
    """One or more loss curves. ``losses`` is a sequence, or a dict label -> sequence."""
    curves = losses if isinstance(losses, dict) else {"loss": losses}
    fig, ax = plt.subplots(figsize=(6, 3.2))
    for label, values in curves.items():
        ax.plot(np.arange(1, len(values) + 1), values, label=label)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("cost")
    ax.set_title(title)
    if len(curves) > 1:
        ax.legend()
    fig.tight_layout()
    return fig
