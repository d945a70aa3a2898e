#!/usr/bin/env python3
"""The attention tables of the issue from bench_attention's JSON output.

  build/bench/bench_attention --benchmark_out=att.json --benchmark_out_format=json
  python3 bench/attention_table.py att.json

Times are the median over repetitions of the thread's CPU time (the bench
default), with the min-max spread; GB/s is K+V bytes read per second and
% roofline is against the bench's own read roofline of the cache level the
K+V working set fits in (both from the median run)."""
import json
import re
import sys

NAME = re.compile(r"^(decode|attend|step|recompute)/(\w+)/(\w+)/L:(\d+)/kv:(\d+)$")


def load(path):
    data = json.load(open(path))
    runs = {}
    for b in data["benchmarks"]:
        if b.get("run_type") != "aggregate" or "error_occurred" in b:
            continue
        m = NAME.match(b["run_name"])
        if not m:
            continue
        kind, dtype, isa, L, kv = m.group(1), m.group(2), m.group(3), int(m.group(4)), int(m.group(5))
        scale = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}[b["time_unit"]]
        r = runs.setdefault((kind, dtype, isa, L, kv), {})
        r[b["aggregate_name"]] = b["cpu_time"] * scale  # microseconds
        if b["aggregate_name"] == "median":
            r["gbps"] = b.get("bytes", 0.0) / 1e9
            r["pct"] = b.get("pct_bw", 0.0)
    return data["context"], runs


def us(x):
    return f"{x:.3g}" if x < 100 else f"{x:.0f}"


def main():
    ctx, runs = load(sys.argv[1])
    isas = sorted({k[2] for k in runs}, key=ctx["tinykern_isas"].split().index)
    Ls = sorted({k[3] for k in runs})
    kvs = sorted({k[4] for k in runs})
    print("Context: " + ", ".join(f"{k}: {ctx[k]}" for k in sorted(ctx) if k.startswith("roofline_read")))
    print(f"load average at start: {ctx.get('load_avg')}\n")

    def table(title, cols, cell):
        """A markdown table: one row per (kv, L), the columns `cols` per ISA,
        filled by cell(kv, L, isa) (a list of len(cols) strings)."""
        print(f"### {title}\n")
        print("| kv | L | " + " | ".join(f"{i} {c}" for i in isas for c in cols) + " |")
        print("|---|---|" + "---|" * (len(cols) * len(isas)))
        for kv in kvs:
            for L in Ls:
                print(f"| {kv} | {L} | " + " | ".join(x for i in isas for x in cell(kv, L, i)) + " |")
        print()

    titles = {
        "decode": "cold: one layer's step, the caches of enough layers rotated that K/V come from DRAM",
        "attend": "warm: the same cache every time, K/V from the cache level they fit in",
    }
    for kind in ("decode", "attend"):
        for dtype in ("f32", "f16", "s8"):
            def step(kv, L, i, kind=kind, dtype=dtype):
                r = runs.get((kind, dtype, i, L, kv))
                return ([f"{us(r['median'])} ({us(r['min'])}-{us(r['max'])})", f"{r['gbps']:.1f}",
                         f"{r['pct']:.0f}"] if r else ["", "", ""])
            table(f"Decode step (tk_attend, n_q_tokens = 1), {kind} = {titles[kind]}; "
                  f"{dtype} cache, 32 q heads, head_dim 128", ["us (min-max)", "GB/s", "% roof"], step)

    for kind in ("decode", "attend"):
        def storage(kv, L, i, kind=kind):
            f32 = runs.get((kind, "f32", i, L, kv))
            cells = []
            for dt in ("f16", "s8"):
                o = runs.get((kind, dt, i, L, kv))
                cells.append(f"{f32['median'] / o['median']:.2f}x" if f32 and o else "")
            return cells
        table(f"Cache storage ({kind}): decode step time of f32 over f16 and s8 (same ISA)",
              ["f32/f16", "f32/s8"], storage)

    breakeven = {}

    def incremental(kv, L, i):
        s, r = runs.get(("step", "f32", i, L, kv)), runs.get(("recompute", "f32", i, L, kv))
        ratio = r["median"] / s["median"] if s and r else None
        if ratio is not None and ratio >= 1.0:
            breakeven.setdefault((i, kv), L)
        return [us(s["median"]) if s else "", us(r["median"]) if r else "",
                f"{ratio:.1f}x" if ratio is not None else ""]
    table("Incremental (append + tk_attend) vs recompute (tk_attention_f32, causal, whole prefix), f32",
          ["step us", "recompute us", "ratio"], incremental)
    for (i, kv), L in sorted(breakeven.items()):
        note = f"<= {L} (faster at the shortest length measured)" if L == Ls[0] else f"{L}"
        print(f"- break-even {i}, {kv} kv heads: L {note}")


if __name__ == "__main__":
    main()
