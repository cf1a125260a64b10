#!/usr/bin/env python3
"""Cost of heap profiling (issue: prof:false must cost nothing, prof:true at
the default rate at most 5% on the microbench and larson).

Compares three runs of the same binaries, interleaved round by round:
  default   a build without --enable-prof          (DEFAULT_LIB)
  off       a --enable-prof build, MALLOC_CONF=prof:false   (PROF_LIB)
  on        the same build, MALLOC_CONF=prof:true (lg_prof_sample 19)
and reports medians of: microbench's mean small-pair time, its 4096 B pair,
its mixed ring, larson's throughput, and callgrind instructions per
malloc(64)+free pair and per malloc(4096)+free pair 5 and 30 frames down
the stack (differences of two loop lengths, so start-up cancels).

usage: bench/prof_overhead.py DEFAULT_LIB PROF_LIB [ROUNDS] > out.md
"""
import os
import re
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.join(HERE, "..", "build", "bench")


def run(binary, lib, conf):
    env = dict(os.environ, LD_PRELOAD=lib, MALLOC_CONF=conf)
    out = subprocess.run([os.path.join(BUILD, binary)], env=env,
                         capture_output=True, text=True, check=True).stdout
    return {m.group(1): float(m.group(2)) for m in
            re.finditer(r"^@metric (\S+) ([0-9.]+)", out, re.M)}


PAIR_C = r"""
#include <stdlib.h>
int main(int argc, char **argv) {
    long n = atol(argv[1]);
    for (long i = 0; i < n; i++) { void *volatile p = malloc(64); free(p); }
    return 0;
}
"""


# malloc(size)+free pairs DEPTH frames down the stack (backtraces of real
# programs are deep: the frame-size cache and the walk memo cost per frame).
DEEP_C = r"""
#include <stdlib.h>
static long n_g;
static size_t sz_g;
__attribute__((noinline)) static long rec(int d) {
    if (d == 0) {
        for (long i = 0; i < n_g; i++) {
            void *volatile p = malloc(sz_g);
            free(p);
        }
        return 0;
    }
    long r = rec(d - 1);
    __asm__ volatile("" ::: "memory");
    return r + 1;
}
int main(int argc, char **argv) {
    n_g = atol(argv[1]);
    sz_g = (size_t)atol(argv[2]);
    int depth = atoi(argv[3]);
    return (int)rec(depth) - depth;
}
"""


def instructions(pair, lib, conf, n, *args):
    env = dict(os.environ, LD_PRELOAD=lib, MALLOC_CONF=conf)
    err = subprocess.run(["valgrind", "--tool=callgrind",
                          "--callgrind-out-file=/dev/null", pair, str(n)]
                         + [str(a) for a in args],
                         env=env, capture_output=True, text=True).stderr
    m = re.search(r"Collected : (\d+)", err)
    return int(m.group(1)) if m else None


def kernel(lib, conf, what, n):
    env = dict(os.environ, LD_PRELOAD=lib, MALLOC_CONF=conf)
    err = subprocess.run(["valgrind", "--tool=callgrind",
                          "--callgrind-out-file=/dev/null",
                          "--toggle-collect=cg_kernel_*",
                          os.path.join(BUILD, "microbench"), "cg", what,
                          str(n)], env=env, capture_output=True,
                         text=True).stderr
    m = re.search(r"Collected : (\d+)", err)
    return int(m.group(1)) if m else None


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    default_lib, prof_lib = map(os.path.abspath, sys.argv[1:3])
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 7
    configs = [("default", default_lib, ""),
               ("off", prof_lib, "prof:false"),
               ("on", prof_lib, "prof:true")]
    metrics = {("microbench", "pair_small_mean"): "small pairs, ns/pair",
               ("microbench", "pair_4096"): "4096 B pairs, ns/pair",
               ("microbench", "ring_mixed_8_4096"): "mixed ring, ns/op",
               ("larson", "throughput"): "larson, Mops/s"}
    samples = {(c, k): [] for c, _, _ in configs for k in metrics}
    for r in range(rounds):
        order = configs[r % 3:] + configs[:r % 3]
        for name, lib, conf in order:
            for binary in ("microbench", "larson"):
                got = run(binary, lib, conf)
                for (b, metric) in metrics:
                    if b == binary and metric in got:
                        samples[(name, (b, metric))].append(got[metric])
    ins = {}
    with tempfile.TemporaryDirectory() as tmp:
        src, pair = os.path.join(tmp, "pair.c"), os.path.join(tmp, "pair")
        with open(src, "w") as f:
            f.write(PAIR_C)
        subprocess.run(["cc", "-O2", "-o", pair, src], check=True)
        for name, lib, conf in configs:
            a = instructions(pair, lib, conf, 100000)
            b = instructions(pair, lib, conf, 200000)
            ins[name] = (b - a) / 100000 if a and b else None
        dsrc, deep = os.path.join(tmp, "deep.c"), os.path.join(tmp, "deep")
        with open(dsrc, "w") as f:
            f.write(DEEP_C)
        subprocess.run(["cc", "-O2", "-fno-optimize-sibling-calls", "-o",
                        deep, dsrc], check=True)
        deep_ins = {}
        for depth in (5, 30):
            for name, lib, conf in configs:
                a = instructions(deep, lib, conf, 1000000, 4096, depth)
                b = instructions(deep, lib, conf, 2000000, 4096, depth)
                deep_ins[(depth, name)] = (b - a) / 1000000 if a and b \
                    else None

    print("| measure | default build | prof build, prof:false | "
          "prof build, prof:true | prof:false vs default | "
          "prof:true vs prof:false |")
    print("|---|---:|---:|---:|---:|---:|")
    for key, label in metrics.items():
        med = {c: statistics.median(samples[(c, key)]) for c, _, _ in configs}
        higher_better = key[1] == "throughput"

        def cost(a, b):
            # Positive: slower.
            return (b / a - 1) * 100 if not higher_better else \
                (a / b - 1) * 100
        print(f"| {label} | {med['default']:.2f} | {med['off']:.2f} | "
              f"{med['on']:.2f} | {cost(med['default'], med['off']):+.1f}% | "
              f"{cost(med['off'], med['on']):+.1f}% |")
    if all(ins.values()):
        print(f"| instructions per malloc(64)+free (callgrind) | "
              f"{ins['default']:.2f} | {ins['off']:.2f} | {ins['on']:.2f} | "
              f"{(ins['off'] / ins['default'] - 1) * 100:+.1f}% | "
              f"{(ins['on'] / ins['off'] - 1) * 100:+.1f}% |")
    for depth in (5, 30):
        d = {c: deep_ins[(depth, c)] for c, _, _ in configs}
        if all(d.values()):
            print(f"| instructions per malloc(4096)+free {depth} frames deep "
                  f"(callgrind) | {d['default']:.2f} | {d['off']:.2f} | "
                  f"{d['on']:.2f} | {(d['off'] / d['default'] - 1) * 100:+.1f}% | "
                  f"{(d['on'] / d['off'] - 1) * 100:+.1f}% |")
    print(f"\n{rounds} interleaved rounds, medians; costs positive = slower.")

    # Instruction counts of microbench's kernels (deterministic where wall
    # time on a shared 2-core VM is not): per operation, from two lengths.
    print("\n| microbench kernel, instructions per op (callgrind) | default | "
          "prof:false | prof:true | prof:true vs prof:false |")
    print("|---|---:|---:|---:|---:|")
    for what in ("64", "1024", "4096", "mixed"):
        per = {}
        for name, lib, conf in configs:
            a = kernel(lib, conf, what, 100000)
            b = kernel(lib, conf, what, 200000)
            per[name] = (b - a) / 100000 if a and b else None
        if all(per.values()):
            label = f"pair {what} B" if what != "mixed" else "mixed ring 8-4096 B"
            print(f"| {label} | {per['default']:.1f} | {per['off']:.1f} | "
                  f"{per['on']:.1f} | {(per['on'] / per['off'] - 1) * 100:+.1f}% |")


if __name__ == "__main__":
    main()
