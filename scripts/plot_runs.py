#!/usr/bin/env python3
"""Draws peerd curves: one line per run (the mean across nodes) with a min-max band.

`peerctl plot` computes every number, writes them beside the figure as CSV, and runs this
script with a JSON request (docs/operations.md, "Reports and plots"):
  {"output": "fig.png", "width": 1200, "height": 750, "dpi": 150, "title": null,
   "xlabel": "...", "ylabel": "...",
   "curves": [{"label": "...", "x": [...], "mean": [...], "min": [...], "max": [...], ...}]}
The output's format follows its extension (.png, .pdf, .svg); a PNG is exactly width x height
pixels. Exit status 3: matplotlib is not installed for this interpreter.
"""
import json
import sys

try:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
except ImportError:
    print("matplotlib is not installed for " + sys.executable, file=sys.stderr)
    sys.exit(3)


def main(path):
    with open(path) as f:
        req = json.load(f)
    dpi = req["dpi"]
    # Half a pixel more, so that the canvas, which truncates, is exactly width x height.
    fig = plt.figure(figsize=((req["width"] + 0.5) / dpi, (req["height"] + 0.5) / dpi), dpi=dpi)
    ax = fig.add_subplot(1, 1, 1)
    for curve in req["curves"]:
        (line,) = ax.plot(curve["x"], curve["mean"], label=curve["label"], linewidth=1.6)
        if any(lo != hi for lo, hi in zip(curve["min"], curve["max"])):
            ax.fill_between(curve["x"], curve["min"], curve["max"], color=line.get_color(), alpha=0.2, linewidth=0)
    ax.set_xlabel(req["xlabel"])
    ax.set_ylabel(req["ylabel"])
    if req.get("title"):
        ax.set_title(req["title"])
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best", frameon=False, title="mean across nodes, band min-max", title_fontsize="small")
    fig.tight_layout()
    fig.savefig(req["output"], dpi=dpi)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: plot_runs.py REQUEST.json", file=sys.stderr)
        sys.exit(2)
    main(sys.argv[1])
