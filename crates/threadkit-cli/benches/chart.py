#!/usr/bin/env python3
"""Draws the echo_load results as an SVG bar chart: requests/s per server per
connection count C (top), and p99 latency on a log scale (bottom).

Pure Python 3 standard library. It reads the `csv,` lines that
`cargo bench --bench echo_load` prints (other lines are ignored), from one or more
saved runs; when a server has several results at one C (rounds, or several
files), the bar is the median and a thin line spans the lowest to the highest.

The chart in docs/echo_load.svg was made with exactly (two runs of two rounds,
one after the other, on 2 cores shared with other engineers' jobs):

    cargo build --release
    cargo bench --bench echo_load -- --rounds 2 | tee target/echo_load.txt
    cargo bench --bench echo_load -- --rounds 2 | tee target/echo_load2.txt
    python3 benches/chart.py target/echo_load.txt target/echo_load2.txt -o docs/echo_load.svg \
        --title "echo_load: 4 rounds, 2 shared busy cores; scalable = threads until mio lands"

Usage: python3 benches/chart.py [FILE ...] [-o OUT.svg] [--title TEXT]
(default FILE target/echo_load.txt, default OUT docs/echo_load.svg)
"""

import argparse
import math
import statistics
import sys
from html import escape

COLORS = {  # also the order of the bars
    "threadkit-scalable": "#1f77b4",
    "tokio": "#d62728",
    "threadkit-threads": "#6baed6",
    "std": "#7f7f7f",
    "python": "#2ca02c",
}
OTHER_COLORS = ["#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf"]

WIDTH = 860
PANEL_H = 300
LEFT, RIGHT, TOP = 80, 190, 60


def read_rows(paths):
    """The csv rows of every file, as dicts keyed by the csv header."""
    rows = []
    for path in paths:
        header = None
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if not line.startswith("csv,"):
                    continue
                fields = line.strip().split(",")[1:]
                if fields and fields[0] == "server":
                    header = fields
                    continue
                if header is None or len(fields) != len(header):
                    continue
                rows.append(dict(zip(header, fields)))
    return rows


def summarize(rows):
    """servers (in order of appearance), Cs (sorted), and
    {(server, C): (median, low, high) for req/s and for p99}."""
    servers, conns, rate, p99 = [], set(), {}, {}
    for r in rows:
        try:
            server, c = r["server"], int(r["conns"])
            rate.setdefault((server, c), []).append(float(r["req_per_s"]))
            p99.setdefault((server, c), []).append(float(r["p99_us"]))
        except (KeyError, ValueError):
            continue
        if server not in servers:
            servers.append(server)
        conns.add(c)
    # The compared pairs side by side: scalable and tokio, threads and std.
    order = [s for s in COLORS if s in servers] + [s for s in servers if s not in COLORS]
    stats = lambda d: {k: (statistics.median(v), min(v), max(v), len(v)) for k, v in d.items()}
    return order, sorted(conns), stats(rate), stats(p99)


def nice_ceiling(x):
    """A round number at least x: 1, 2, 2.5 or 5 times a power of ten."""
    if x <= 0:
        return 1.0
    p = 10 ** math.floor(math.log10(x))
    for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if m * p >= x:
            return m * p
    return 10 * p


def si(x):
    if x >= 1e6:
        return f"{x / 1e6:.1f}M"
    if x >= 1e3:
        return f"{x / 1e3:.3g}k"
    return f"{x:.0f}"


def us(x):
    if x >= 1e6:
        return f"{x / 1e6:.3g} s"
    return f"{x / 1000:.3g} ms" if x >= 1000 else f"{x:.3g} µs"


def panel(out, y0, servers, conns, data, title, log, label):
    """One grouped bar panel starting at height y0."""
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = PANEL_H - 70
    top = y0 + 30
    bottom = top + plot_h
    values = [v for v in data.values()]
    hi = max((v[2] for v in values), default=1.0)
    if log:
        lo_exp = math.floor(math.log10(max(min((v[1] for v in values), default=1.0), 1e-3)))
        hi_exp = math.ceil(math.log10(max(hi, 1e-3)) + 1e-9)
        if hi_exp <= lo_exp:
            hi_exp = lo_exp + 1

        def y(v):
            v = max(v, 10**lo_exp)
            return bottom - (math.log10(v) - lo_exp) / (hi_exp - lo_exp) * plot_h

        ticks = [10**e for e in range(lo_exp, hi_exp + 1)]
    else:
        ymax = nice_ceiling(hi * 1.08)

        def y(v):
            return bottom - v / ymax * plot_h

        ticks = [ymax * i / 5 for i in range(6)]

    out.append(f'<text x="{LEFT}" y="{y0 + 18}" class="title">{escape(title)}</text>')
    for t in ticks:
        ty = y(t)
        out.append(f'<line x1="{LEFT}" y1="{ty:.1f}" x2="{LEFT + plot_w}" y2="{ty:.1f}" class="grid"/>')
        out.append(f'<text x="{LEFT - 6}" y="{ty + 4:.1f}" class="tick" text-anchor="end">{escape(label(t))}</text>')
    out.append(f'<line x1="{LEFT}" y1="{bottom}" x2="{LEFT + plot_w}" y2="{bottom}" class="axis"/>')

    group_w = plot_w / max(len(conns), 1)
    bar_w = group_w * 0.8 / max(len(servers), 1)
    for gi, c in enumerate(conns):
        gx = LEFT + gi * group_w + group_w * 0.1
        out.append(
            f'<text x="{gx + group_w * 0.4:.1f}" y="{bottom + 18}" class="tick" text-anchor="middle">C = {c}</text>'
        )
        for si_, server in enumerate(servers):
            v = data.get((server, c))
            if v is None:
                continue
            med, low, high, n = v
            x = gx + si_ * bar_w
            top_y = y(med)
            color = color_of(server, servers)
            out.append(
                f'<rect x="{x + 1:.1f}" y="{top_y:.1f}" width="{bar_w - 2:.1f}" height="{max(bottom - top_y, 0):.1f}" fill="{color}">'
                f"<title>{escape(server)} at C = {c}: {escape(label(med))} (median of {n})</title></rect>"
            )
            if n > 1 and high > low:
                cx = x + bar_w / 2
                out.append(f'<line x1="{cx:.1f}" y1="{y(low):.1f}" x2="{cx:.1f}" y2="{y(high):.1f}" class="range"/>')
            out.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{min(top_y, y(high)) - 4:.1f}" class="value" text-anchor="middle">{escape(label(med))}</text>'
            )


def color_of(server, servers):
    if server in COLORS:
        return COLORS[server]
    others = [s for s in servers if s not in COLORS]
    return OTHER_COLORS[others.index(server) % len(OTHER_COLORS)]


def render(servers, conns, rate, p99, title):
    height = TOP + 2 * PANEL_H + 20
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif">',
        "<style>"
        ".title{font-size:14px;font-weight:bold}"
        ".head{font-size:16px;font-weight:bold}"
        ".sub{font-size:11px;fill:#555}"
        ".tick{font-size:11px;fill:#333}"
        ".value{font-size:9px;fill:#222}"
        ".legend{font-size:12px}"
        ".grid{stroke:#ddd;stroke-width:1}"
        ".axis{stroke:#333;stroke-width:1}"
        ".range{stroke:#000;stroke-width:1.5}"
        "</style>",
        f'<rect width="{WIDTH}" height="{height}" fill="white"/>',
        f'<text x="{LEFT}" y="24" class="head">{escape(title)}</text>',
        f'<text x="{LEFT}" y="42" class="sub">64-byte line round trips on 127.0.0.1, C client connections; bar: median over runs, line: lowest to highest</text>',
    ]
    panel(out, TOP, servers, conns, rate, "requests/s (higher is better)", False, si)
    panel(out, TOP + PANEL_H, servers, conns, p99, "p99 latency, log scale (lower is better)", True, us)
    lx = WIDTH - RIGHT + 20
    for i, server in enumerate(servers):
        ly = TOP + 40 + i * 22
        out.append(f'<rect x="{lx}" y="{ly - 11}" width="14" height="14" fill="{color_of(server, servers)}"/>')
        out.append(f'<text x="{lx + 20}" y="{ly}" class="legend">{escape(server)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="*", default=["target/echo_load.txt"])
    ap.add_argument("-o", "--out", default="docs/echo_load.svg")
    ap.add_argument("--title", default="threadkit echo_load: echo servers under load")
    args = ap.parse_args()
    rows = read_rows(args.files)
    servers, conns, rate, p99 = summarize(rows)
    if not servers:
        sys.exit(f"chart.py: no csv results in {', '.join(args.files)}")
    svg = render(servers, conns, rate, p99, args.title)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(svg)
    print(f"wrote {args.out}: {len(servers)} servers, C = {', '.join(map(str, conns))}, {len(rows)} results")


if __name__ == "__main__":
    main()
