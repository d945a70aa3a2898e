#!/usr/bin/env python3
"""Runs tinykern-llama over ISAs, cache storages, weight types and thread counts; prints the README's tables (markdown)."""
import argparse
import json
import os
import subprocess
import sys

CACHES = ["f32", "f16", "s8"]


def run(args, isa, extra, threads=1):
    """One tinykern-llama run as a dict, or None when the ISA is not available here."""
    steps = [] if "-n" in extra else ["-n", str(args.steps)]
    pool = ["--pool", args.pool] if args.pool else []
    cmd = [args.llama, args.checkpoint, args.tokenizer, "--json", "-t", "0", "--isa", isa,
           "--threads", str(threads), "--repeat", str(args.repeat)] + pool + steps + extra
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        if "not available" in p.stderr:
            return None
        sys.exit("failed: %s\n%s" % (" ".join(cmd), p.stderr))
    print("ran: " + " ".join(cmd[1:]) + "  (load %.1f)" % os.getloadavg()[0], file=sys.stderr)
    r = json.loads(p.stdout)
    if r["generated_tokens"] < int(cmd[cmd.index("-n") + 1]):
        print("warning: stopped at BOS after %d tokens" % r["generated_tokens"], file=sys.stderr)
    return r


def cpu(r, key):
    """Median and range per CPU second (the machine is shared: see README)."""
    return r[key]["cpu"]


def fmt(s, digits=1):
    return "%.*f [%.*f-%.*f]" % (digits, s["median"], digits, s["min"], digits, s["max"])


def cell(r, key, digits=1):
    """Per CPU second (median [range]), then the wall clock's median."""
    return "%s / %.*f" % (fmt(r[key]["cpu"], digits), digits, r[key]["wall"]["median"])


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("llama", help="path to tinykern-llama")
    ap.add_argument("checkpoint")
    ap.add_argument("tokenizer")
    ap.add_argument("--steps", type=int, default=48, help="tokens generated per run")
    ap.add_argument("--repeat", type=int, default=3, help="runs per row (median, range)")
    ap.add_argument("--prompt-tokens", type=int, default=32, help="prefill length of the ISA table")
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="the 'all threads' rows")
    ap.add_argument("--pool", choices=["spin", "yield"],
                    help="tinykern-llama --pool (default: tinykern's, yield)")
    args = ap.parse_args()
    prompt = ["--prompt-tokens", str(args.prompt_tokens)]
    loads = [os.getloadavg()[0]]

    rows = {}  # (isa, threads) -> {"int8/<cache>": result, "f32": result}
    isas = subprocess.run([args.llama, "--isas"], capture_output=True, text=True,
                          check=True).stdout.split()
    for isa in isas:
        for threads in (1, args.threads):
            first = run(args, isa, prompt, threads)
            if first is None:
                break
            r = rows[(isa, threads)] = {"int8/f32": first}
            for cache in CACHES[1:]:
                r["int8/" + cache] = run(args, isa, prompt + ["--cache", cache], threads)
            r["f32"] = run(args, isa, prompt + ["--f32"], threads)
            loads.append(os.getloadavg()[0])
    best = list(rows)[-1][0]
    ctx = {n: run(args, best, ["--prompt-tokens", str(n), "--cache", "s8", "-n", "16", "--bandwidth"])
           for n in (256, 1000)}
    # threads vs one on the wall clock: alternate the two, the best run of each
    scaling = {1: [], args.threads: []}
    for _ in range(args.repeat):
        for t in scaling:
            scaling[t].append(run(args, best, prompt + ["--cache", "s8"], t)["decode_tok_s"]["wall"]["max"])
    loads.append(os.getloadavg()[0])

    r0 = ctx[256]
    c = r0["config"]
    print("CPU: %s; shape dim %d, hidden %d, %d layers, %d heads / %d kv heads, vocab %d; "
          "prompt %d tokens, %d generated, greedy; median [min-max] of %d runs per CPU second "
          "(all threads' CPU time) / median on the wall clock; pool %s; load average %.1f-%.1f.\n"
          % (r0["cpu"], c["dim"], c["hidden_dim"], c["n_layers"], c["n_heads"], c["n_kv_heads"],
             c["vocab_size"], args.prompt_tokens, args.steps, args.repeat, args.pool or "yield",
             min(loads), max(loads)))
    print("| ISA | threads | decode int8, f32 cache | f16 cache | s8 cache | decode fp32 weights "
          "| int8 / fp32 | prefill int8 (tok/s) | time to first token (ms) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for (isa, threads), r in rows.items():
        i8, f32 = r["int8/f32"], r["f32"]
        print("| %s | %d | %s | %s | %s | %s | %.1fx | %s | %s |" % (
            isa, threads, cell(i8, "decode_tok_s"), cell(r["int8/f16"], "decode_tok_s"),
            cell(r["int8/s8"], "decode_tok_s"), cell(f32, "decode_tok_s"),
            cpu(i8, "decode_tok_s")["median"] / cpu(f32, "decode_tok_s")["median"],
            cell(i8, "prefill_tok_s", 0), cell(i8, "ttft_ms")))

    print("\n| target | measured |")
    print("| --- | --- |")
    for n in (256, 1000):
        r = ctx[n]
        decode = cpu(r, "decode_tok_s")["median"]
        gbs = decode * r["weight_bytes_per_token"] * 1e-9
        print("| decode x weight bytes vs DRAM read bandwidth, %d tokens of context, s8 cache "
              "(>= 80%%) | %s, 1 thread: %.1f tok/s x %.1f MB = %.1f GB/s of %.1f GB/s = %.0f%% |"
              % (n, best, decode, r["weight_bytes_per_token"] * 1e-6, gbs,
                 r["read_bandwidth_gbs"], 100 * gbs / r["read_bandwidth_gbs"]))
    one = rows[(best, 1)]
    ratio = cpu(one["int8/f32"], "decode_tok_s")["median"] / cpu(one["f32"], "decode_tok_s")["median"]
    print("| int8 vs fp32 weights, decode (>= 3.5x) | %s, 1 thread: %.1fx |" % (best, ratio))
    if ("scalar", 1) in rows and ("avx2", 1) in rows:
        ratio = (cpu(rows[("avx2", 1)]["int8/f32"], "decode_tok_s")["median"] /
                 cpu(rows[("scalar", 1)]["int8/f32"], "decode_tok_s")["median"])
        print("| avx2 vs scalar, int8 decode (>= 8x) | 1 thread: %.1fx |" % ratio)
    w1, wn = max(scaling[1]), max(scaling[args.threads])
    print("| %d threads vs 1, int8 decode, wall clock (>= 1.6x) | %s, s8 cache, best of %d runs: "
          "%.1f vs %.1f tok/s = %.2fx |" % (args.threads, best, args.repeat * args.repeat, wn, w1, wn / w1))


if __name__ == "__main__":
    main()
