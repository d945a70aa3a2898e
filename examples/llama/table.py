#!/usr/bin/env python3
"""Runs tinykern-llama over ISAs, cache storages and weight types; prints the README's tables (markdown)."""
import argparse
import json
import subprocess
import sys

ISAS = ["scalar", "sse41", "avx2", "avxvnni", "avx512", "avx512vnni", "neon", "neondot"]
CACHES = ["f32", "f16", "s8"]


def run(args, isa, extra):
    """One tinykern-llama run as a dict, or None when the ISA is not available here."""
    steps = [] if "-n" in extra else ["-n", str(args.steps)]
    cmd = [args.llama, args.checkpoint, args.tokenizer, "--json", "-t", "0", "--isa", isa,
           "--repeat", str(args.repeat)] + steps + extra
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        if "not available" in p.stderr:
            return None
        sys.exit("failed: %s\n%s" % (" ".join(cmd), p.stderr))
    print("ran: " + " ".join(cmd[1:]), file=sys.stderr)
    r = json.loads(p.stdout)
    if r["generated_tokens"] < int(cmd[cmd.index("-n") + 1]):
        print("warning: stopped at BOS after %d tokens" % r["generated_tokens"], file=sys.stderr)
    return r


def cpu(r, key):
    """Median and range per CPU second (the machine is shared: see README)."""
    return r[key]["cpu"]


def fmt(s, digits=1):
    return "%.*f [%.*f-%.*f]" % (digits, s["median"], digits, s["min"], digits, s["max"])


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("llama", help="path to tinykern-llama")
    ap.add_argument("checkpoint")
    ap.add_argument("tokenizer")
    ap.add_argument("--steps", type=int, default=48, help="tokens generated per run")
    ap.add_argument("--repeat", type=int, default=3, help="runs per row (median, range)")
    ap.add_argument("--prompt-tokens", type=int, default=32, help="prefill length of the ISA table")
    args = ap.parse_args()
    prompt = ["--prompt-tokens", str(args.prompt_tokens)]

    rows = {}  # isa -> {"int8/<cache>": result, "f32": result}
    for isa in ISAS:
        first = run(args, isa, prompt)
        if first is None:
            continue
        rows[isa] = {"int8/f32": first}
        for cache in CACHES[1:]:
            rows[isa]["int8/" + cache] = run(args, isa, prompt + ["--cache", cache])
        rows[isa]["f32"] = run(args, isa, prompt + ["--f32"])
    best = list(rows)[-1]
    bw = run(args, best, prompt + ["--cache", "s8", "--bandwidth"])
    ctx = {n: run(args, best, ["--prompt-tokens", str(n), "--cache", "s8", "-n", "16"]) for n in (256, 1000)}

    r0 = bw
    c = r0["config"]
    print("CPU: %s; one thread; shape dim %d, hidden %d, %d layers, %d heads / %d kv heads, vocab %d; "
          "prompt %d tokens, %d generated, greedy; median [min-max] of %d runs, per CPU second.\n"
          % (r0["cpu"], c["dim"], c["hidden_dim"], c["n_layers"], c["n_heads"], c["n_kv_heads"],
             c["vocab_size"], args.prompt_tokens, args.steps, args.repeat))
    print("| ISA | decode int8, f32 cache | f16 cache | s8 cache | decode fp32 weights | int8 / fp32 "
          "| prefill int8 (tok/s) | time to first token (ms) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for isa, r in rows.items():
        i8, f32 = r["int8/f32"], r["f32"]
        print("| %s | %s | %s | %s | %s | %.1fx | %s | %s |" % (
            isa, fmt(cpu(i8, "decode_tok_s")), fmt(cpu(r["int8/f16"], "decode_tok_s")),
            fmt(cpu(r["int8/s8"], "decode_tok_s")), fmt(cpu(f32, "decode_tok_s")),
            cpu(i8, "decode_tok_s")["median"] / cpu(f32, "decode_tok_s")["median"],
            fmt(cpu(i8, "prefill_tok_s"), 0), fmt(cpu(i8, "ttft_ms"))))

    decode = cpu(bw, "decode_tok_s")["median"]
    gbs = decode * bw["weight_bytes_per_token"] * 1e-9
    print("\n| target | measured |")
    print("| --- | --- |")
    print("| decode x weight bytes vs DRAM read bandwidth (>= 80%%) | %s, s8 cache: %.1f tok/s x %.1f MB "
          "= %.1f GB/s of %.1f GB/s = %.0f%% |" % (best, decode, bw["weight_bytes_per_token"] * 1e-6,
                                                   gbs, bw["read_bandwidth_gbs"],
                                                   100 * gbs / bw["read_bandwidth_gbs"]))
    ratio = cpu(rows[best]["int8/f32"], "decode_tok_s")["median"] / cpu(rows[best]["f32"], "decode_tok_s")["median"]
    print("| int8 vs fp32 weights, decode (>= 3.5x) | %s: %.1fx |" % (best, ratio))
    if "scalar" in rows and "avx2" in rows:
        ratio = cpu(rows["avx2"]["int8/f32"], "decode_tok_s")["median"] / cpu(rows["scalar"]["int8/f32"], "decode_tok_s")["median"]
        print("| avx2 vs scalar, int8 decode (>= 8x) | %.1fx |" % ratio)
    d256, d1000 = (cpu(ctx[n], "decode_tok_s")["median"] for n in (256, 1000))
    print("| decode at 256 vs 1000 tokens of context, s8 cache (close) | %s: %.1f vs %.1f tok/s (%.0f%%) |"
          % (best, d256, d1000, 100 * d1000 / d256))


if __name__ == "__main__":
    main()
