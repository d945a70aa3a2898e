#!/usr/bin/env python3
"""Summarize a bench binary's --benchmark_out JSON: medians, min-max spread, variant/scalar ratios, dispatch overhead.

Usage: build/bench/bench_int8 --benchmark_out=int8.json --benchmark_out_format=json
       python3 bench/summarize.py int8.json
Needs the per-repetition rows, which --benchmark_out files always have.
"""
import json
import statistics
import sys

UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


def load(path):
    with open(path) as f:
        doc = json.load(f)
    runs = {}
    for b in doc["benchmarks"]:
        if b.get("run_type") != "iteration" or b.get("error_occurred"):
            continue
        r = runs.setdefault(b["run_name"], {"ns": [], "rep": [], "counters": {}})
        r["ns"].append(b["cpu_time"] * UNIT_NS[b["time_unit"]])
        r["rep"].append(b.get("repetition_index", 0))
        for key in ("ops", "bytes", "pct_peak", "pct_bw", "elems"):
            if key in b:
                r["counters"].setdefault(key, []).append(b[key])
    return doc.get("context", {}), runs


def fmt_ns(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("us", 1e3)):
        if ns >= scale:
            return "%.3g %s" % (ns / scale, unit)
    return "%.3g ns" % ns


def scalar_twin(name, isas):
    parts = name.split("/")
    hits = [i for i, p in enumerate(parts) if p in isas]
    if not hits or parts[hits[0]] == "scalar":
        return None
    parts[hits[0]] = "scalar"
    return "/".join(parts)


def speedup(run, base):
    """run vs base: by the first rate both report (work per iteration may differ), else by time."""
    for key in ("ops", "bytes", "elems"):
        if key in run["counters"] and key in base["counters"]:
            return statistics.median(run["counters"][key]) / statistics.median(base["counters"][key])
    return statistics.median(base["ns"]) / statistics.median(run["ns"])


def main(path):
    context, runs = load(path)
    isas = context["tinykern_isas"].split()  # every ISA name, in tk_isa order
    for key in sorted(k for k in context if k.startswith(("roofline", "tinykern", "cblas"))):
        print("- %s: %s" % (key, context[key]))
    print()
    print("| benchmark | reps | CPU time median (min - max) | vs scalar | G ops/s | GB/s | % peak | % bw |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, r in runs.items():
        med = statistics.median(r["ns"])
        c = {k: statistics.median(v) for k, v in r["counters"].items()}
        twin = scalar_twin(name, isas)
        ratio = ""
        if twin in runs:
            ratio = "%.2fx" % speedup(r, runs[twin])
        print("| %s | %d | %s (%s - %s) | %s | %s | %s | %s | %s |" % (
            name, len(r["ns"]), fmt_ns(med), fmt_ns(min(r["ns"])), fmt_ns(max(r["ns"])), ratio,
            "%.2f" % (c["ops"] * 1e-9) if "ops" in c else "",
            "%.2f" % (c["bytes"] * 1e-9) if "bytes" in c else "",
            "%.0f" % c["pct_peak"] if "pct_peak" in c else "",
            "%.0f" % c["pct_bw"] if "pct_bw" in c else ""))
    # Dispatch overhead: public call minus direct kernel call, per repetition.
    pairs = [(n, n.replace("/public/", "/direct/")) for n in runs if "/public/" in n]
    pairs = [(p, d) for p, d in pairs if d in runs]
    if pairs:
        print()
        print("| dispatch overhead | public median | direct median | difference median (min - max over repetitions) |")
        print("| --- | --- | --- | --- |")
        for p, d in pairs:
            pub = dict(zip(runs[p]["rep"], runs[p]["ns"]))
            dir_ = dict(zip(runs[d]["rep"], runs[d]["ns"]))
            diffs = [pub[i] - dir_[i] for i in pub if i in dir_]
            print("| %s | %.2f ns | %.2f ns | %.2f ns (%.2f - %.2f) |" % (
                p.replace("/public", ""), statistics.median(runs[p]["ns"]), statistics.median(runs[d]["ns"]),
                statistics.median(runs[p]["ns"]) - statistics.median(runs[d]["ns"]), min(diffs), max(diffs)))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
