#!/usr/bin/env python3
"""Allocator benchmark runner: ours vs glibc, jemalloc 5.3, mimalloc, tcmalloc.

    python3 bench/run.py            full measurement -> bench/results/
    python3 bench/run.py --quick    every workload once, small, outputs only

Options (environment variables in brackets):
    --rounds N        rounds for the median (BENCH_ROUNDS, default 3)
    --only a,b        run only these workloads (BENCH_ONLY)
    --allocs a,b      run only these allocators (BENCH_ALLOCS)
    --scale X         workload scale, 1.0 = full (BENCH_SCALE)
    --no-callgrind    skip the callgrind instruction counts (BENCH_CALLGRIND=0)
    --out DIR         where results go (BENCH_OUT, default bench/results)
    BENCH_TIMER=launch  use build/bench/launch instead of /usr/bin/time

See bench/README.md for what the workloads do and how to read the results.
Run workloads one at a time only: the machine's cores are part of the
measurement.
"""
import argparse
import datetime
import hashlib
import json
import math
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BUILD = os.path.join(ROOT, "build", "bench")
sys.path.insert(0, os.path.join(HERE, "real"))
sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
import sqlite_workload  # noqa: E402

QUICK_SCALE = 0.05
MULTIARCH = "/usr/lib/x86_64-linux-gnu"

# name, label, path (None = no preload), Debian package for the version line
ALLOCATORS = [
    ("glibc", "glibc malloc", None, "libc6"),
    ("ours", "ours (jemalloc 5.1 re-impl.)", os.path.join(ROOT, "lib", "libjemalloc.so.2"), None),
    ("je53", "jemalloc 5.3.0", os.path.join(MULTIARCH, "libjemalloc.so.2"), "libjemalloc2"),
    ("mi", "mimalloc 2.0.9", os.path.join(MULTIARCH, "libmimalloc.so.2"), "libmimalloc2.0"),
    ("tc", "tcmalloc 2.10 (minimal)", os.path.join(MULTIARCH, "libtcmalloc_minimal.so.4"),
     "libtcmalloc-minimal4"),
]

C_WORKLOADS = ["microbench", "larson", "prodcons", "falseshare", "rptest", "mstress",
               "large", "frag"]

WORKLOADS = [
    ("microbench", "c", "single thread: malloc/free pairs per size class 8 B..4 MiB, "
     "a 1000-object mixed ring, jemalloc extensions where exported"),
    ("larson", "c", "server simulation: threads replace random 16..1024 B objects "
     "and hand batches to other threads"),
    ("prodcons", "c", "one producer allocates 8..1024 B objects, a consumer thread "
     "verifies and frees them (lock-free ring)"),
    ("falseshare", "c", "threads allocate 8 B objects and write them in a tight loop "
     "(active and passive false sharing)"),
    ("rptest", "c", "random sizes 32 B..64 KiB, random lifetimes, realloc growth, "
     "cross-thread frees"),
    ("mstress", "c", "generations of short-lived threads; a quarter of each "
     "thread's survivors is freed by the next generation"),
    ("large", "c", "64 KiB..32 MiB blocks (every page used) and realloc growth "
     "64 KiB -> 32 MiB"),
    ("frag", "c", "fragmentation trace: allocation phases and partial frees; "
     "peak RSS vs peak live bytes"),
    ("python", "python", "python3 (PYTHONMALLOC=malloc) building dicts/lists/strings, "
     "sorting, checksumming"),
    ("sqlite", "sqlite", "sqlite3 :memory: building, indexing, updating and "
     "querying a table"),
    ("redis", "redis", "redis-server under the allocator, redis-benchmark "
     "(SET/GET/LPUSH/LPOP, 256 B values) on 127.0.0.1"),
]

CG_SIZES = ["16", "64", "256", "1024", "4096", "16384", "mixed"]


class Skip(Exception):
    pass


def log(msg):
    print(msg, flush=True)


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True,
                              timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


# --------------------------------------------------------------------------
# building


def build(need_launcher):
    os.makedirs(BUILD, exist_ok=True)
    cc = os.environ.get("CC", "cc")
    hdr = os.path.join(HERE, "bench_common.h")
    targets = [(w, [os.path.join(HERE, w + ".c"), hdr]) for w in C_WORKLOADS]
    if need_launcher:
        targets.append(("launch", [os.path.join(HERE, "launch.c")]))
    for name, deps in targets:
        out = os.path.join(BUILD, name)
        if os.path.exists(out) and all(os.path.getmtime(out) >= os.path.getmtime(d)
                                       for d in deps):
            continue
        cmd = [cc, "-O2", "-pthread", "-o", out, deps[0], "-ldl", "-lm"]
        log("  build: " + " ".join(cmd))
        subprocess.run(cmd, check=True)


# --------------------------------------------------------------------------
# allocators


def dpkg_version(pkg):
    if pkg is None or shutil.which("dpkg-query") is None:
        return ""
    return sh("dpkg-query -W -f='${Version}' %s 2>/dev/null" % pkg)


def setup_allocators(wanted):
    """Return the list of present allocators; ours is snapshotted."""
    present = []
    for name, label, path, pkg in ALLOCATORS:
        if wanted and name not in wanted:
            continue
        info = {"name": name, "label": label, "pkg": pkg, "version": dpkg_version(pkg)}
        if path is None:
            info["preload"] = None
            info["version"] = info["version"] or platform.libc_ver()[1]
            present.append(info)
            continue
        if not os.path.exists(path):
            if name == "ours":
                sys.exit("error: %s is missing; build it with `make lib`" % path)
            log("  %-6s not installed (%s): skipped  [apt-get install -y %s]"
                % (name, path, pkg))
            continue
        if name == "ours":
            # Snapshot the library so that a rebuild during the run cannot
            # change (or remove) what is being measured.
            snapdir = os.path.join(BUILD, "ours")
            os.makedirs(snapdir, exist_ok=True)
            snap = os.path.join(snapdir, "libjemalloc.so.2")
            tmp = snap + ".tmp"
            shutil.copy2(path, tmp)
            os.replace(tmp, snap)
            with open(snap, "rb") as f:
                info["sha256"] = hashlib.sha256(f.read()).hexdigest()[:16]
            info["version"] = read_our_version()
            info["preload"] = snap
        else:
            info["preload"] = path
        present.append(info)
    return present


def read_our_version():
    try:
        with open(os.path.join(ROOT, "config.mk")) as f:
            for line in f:
                if line.startswith("VERSION"):
                    return line.split("=", 1)[1].strip()
    except OSError:
        pass
    return "?"


def child_env(alloc, extra=None):
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    env.pop("MALLOC_CONF", None)
    env.pop("PYTHONMALLOC", None)
    env["LC_ALL"] = "C"
    if extra:
        env.update(extra)
    return env


def preload_prefix(alloc, libc_for_glibc=False):
    """Command prefix that sets LD_PRELOAD for exactly the measured program."""
    if alloc["preload"] is not None:
        return ["env", "LD_PRELOAD=" + alloc["preload"]]
    if libc_for_glibc:
        # redis-server links libjemalloc itself; putting libc first in the
        # lookup order makes malloc & co. resolve to glibc's.
        libc = os.path.realpath("/lib/x86_64-linux-gnu/libc.so.6")
        if os.path.exists(libc):
            return ["env", "LD_PRELOAD=" + libc]
    return ["env"]


# --------------------------------------------------------------------------
# running one measured process


class Timer:
    def __init__(self):
        self.mode = "time"
        if os.environ.get("BENCH_TIMER") == "launch" or not os.path.exists("/usr/bin/time"):
            self.mode = "launch"

    def wrap(self, outfile, cmd):
        if self.mode == "time":
            return ["/usr/bin/time", "-f", "%e %U %S %M", "-o", outfile] + cmd
        return [os.path.join(BUILD, "launch"), outfile] + cmd

    @staticmethod
    def parse(outfile):
        try:
            with open(outfile) as f:
                lines = [ln for ln in f.read().splitlines() if ln.strip()]
            e, u, s, m = lines[-1].split()[:4]
            return float(e), float(u), float(s), int(m)
        except (OSError, ValueError, IndexError):
            return None


def kill_group(p):
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        p.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


def run_measured(timer, cmd, env, timeout, stdin_data=None):
    """Run cmd under the timer; return dict with rc, wall, user, sys, rss_kb,
    stdout, stderr."""
    fd, tfile = tempfile.mkstemp(prefix="bench-time-")
    os.close(fd)
    try:
        t0 = time.perf_counter()
        p = subprocess.Popen(timer.wrap(tfile, cmd), env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE,
                             stdin=subprocess.PIPE if stdin_data is not None else subprocess.DEVNULL,
                             text=True, start_new_session=True)
        try:
            out, err = p.communicate(input=stdin_data, timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_group(p)
            return {"rc": None, "error": "timed out after %d s" % timeout,
                    "stdout": "", "stderr": ""}
        except BaseException:
            # The child runs in its own session (so it can be killed as a
            # group); Ctrl-C does not reach it, so take it down here.
            kill_group(p)
            raise
        wall = time.perf_counter() - t0
        r = {"rc": p.returncode, "stdout": out, "stderr": err, "wall": wall}
        t = Timer.parse(tfile)
        if t is not None:
            r["user"], r["sys"], r["rss_kb"] = t[1], t[2], t[3]
        return r
    finally:
        os.unlink(tfile)


def parse_output(stdout):
    metrics, notes, where = {}, [], {}
    for line in stdout.splitlines():
        if line.startswith("@metric "):
            parts = line.split()
            if len(parts) >= 3:
                try:
                    metrics[parts[1]] = (float(parts[2]), " ".join(parts[3:]))
                except ValueError:
                    pass
        elif line.startswith("@note "):
            notes.append(line[6:])
        elif line.startswith(("@malloc_from ", "@free_from ", "@preload_mapped ")):
            k, v = line.split(" ", 1)
            where[k[1:]] = v.strip()
    return metrics, notes, where


def same_file(a, b):
    try:
        return os.path.realpath(a) == os.path.realpath(b) or os.path.samefile(a, b)
    except OSError:
        return False


def check_allocator_in_effect(alloc, where, stderr):
    """Return an error string if the wrong allocator served the program."""
    if "ERROR: ld.so" in stderr:
        return "LD_PRELOAD failed: " + stderr.strip().splitlines()[0]
    if alloc["preload"] is None:
        for k in ("malloc_from", "free_from"):
            if k in where and "libc.so" not in os.path.basename(where[k]):
                return "%s is %s, expected glibc" % (k, where[k])
        return None
    for k in ("malloc_from", "free_from", "preload_mapped"):
        if k in where and not same_file(where[k], alloc["preload"]):
            return "%s is %s, expected %s" % (k, where[k], alloc["preload"])
    return None


def tail(text, n=5):
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return " | ".join(lines[-n:])


# --------------------------------------------------------------------------
# workloads


def find_python():
    for p in ("/usr/bin/python3", shutil.which("python3") or ""):
        if p and os.path.exists(p):
            return p
    return None


def find_tool(name):
    p = "/usr/bin/" + name
    return p if os.path.exists(p) else shutil.which(name)


def run_workload(name, kind, alloc, scale, timer, timeout):
    if kind == "c":
        arg = "quick" if scale == QUICK_SCALE else repr(scale)
        cmd = preload_prefix(alloc) + [os.path.join(BUILD, name), arg]
        r = run_measured(timer, cmd, child_env(alloc), timeout)
        r["ok_marker"] = name + " OK"
        return finish(r, alloc)
    if kind == "python":
        py = find_python()
        if py is None:
            raise Skip("python3 not installed")
        arg = "quick" if scale == QUICK_SCALE else "full" if scale == 1.0 else repr(scale)
        cmd = preload_prefix(alloc) + [py, os.path.join(HERE, "real", "pyalloc.py"), arg]
        r = run_measured(timer, cmd, child_env(alloc, {"PYTHONMALLOC": "malloc"}), timeout)
        r["ok_marker"] = "pyalloc OK"
        return finish(r, alloc)
    if kind == "sqlite":
        sq = find_tool("sqlite3")
        if sq is None:
            raise Skip("sqlite3 not installed (apt-get install -y sqlite3)")
        n = sqlite_workload.rows_for_scale(scale)
        cmd = preload_prefix(alloc) + [sq, "-bail", ":memory:"]
        r = run_measured(timer, cmd, child_env(alloc), timeout,
                         stdin_data=sqlite_workload.make_sql(n))
        if r.get("rc") == 0:
            err = sqlite_workload.check(r["stdout"], n)
            if err is not None:
                r["error"] = "wrong sqlite output: " + err
        r["ok_marker"] = "done"
        r["stdout"] = r.get("stdout", "") + "\n@metric rows %d\n" % n
        return finish(r, alloc)
    if kind == "redis":
        return run_redis(alloc, scale, timer, timeout)
    raise ValueError(kind)


def finish(r, alloc):
    if r.get("error"):
        r["ok"] = False
        return r
    metrics, notes, where = parse_output(r["stdout"])
    r["metrics"], r["notes"] = metrics, notes
    bad = check_allocator_in_effect(alloc, where, r.get("stderr", ""))
    if r["rc"] != 0:
        sig = -r["rc"] if r["rc"] < 0 else (r["rc"] - 128 if r["rc"] > 128 else 0)
        why = ("killed by signal %d" % sig) if sig else ("exit status %d" % r["rc"])
        r["error"] = why + ": " + tail(r["stderr"] + "\n" + r["stdout"], 3)
    elif bad:
        r["error"] = bad
    elif r.get("ok_marker") and r["ok_marker"] not in r["stdout"]:
        r["error"] = "no '%s' line in output" % r["ok_marker"]
    elif "user" not in r:
        r["error"] = "no timing information from the timer"
    r["ok"] = "error" not in r
    return r


# ---- redis ----------------------------------------------------------------

class Resp:
    """Minimal RESP client: one command, one reply."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.f = self.sock.makefile("rb")

    def cmd(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.sock.sendall(out)
        return resp_read(self.f)

    def close(self):
        try:
            self.f.close()
            self.sock.close()
        except OSError:
            pass


def resp_read(f):
    line = f.readline()
    if not line:
        raise ConnectionError("connection closed")
    t, rest = line[:1], line[1:-2]
    if t == b"+":
        return rest.decode()
    if t == b"-":
        raise RuntimeError(rest.decode())
    if t == b":":
        return int(rest)
    if t == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)
        return data[:-2]
    if t == b"*":
        return [resp_read(f) for _ in range(int(rest))]
    raise RuntimeError("bad reply %r" % line)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run_redis(alloc, scale, timer, timeout):
    server, bench = find_tool("redis-server"), find_tool("redis-benchmark")
    if server is None or bench is None:
        raise Skip("redis-server and redis-benchmark not both installed "
                   "(apt-get install -y redis-server)")
    nreq = max(2000, int(25000 * scale))
    port = free_port()
    cmd = preload_prefix(alloc, libc_for_glibc=True) + [
        server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
        "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning",
        "--logfile", ""]
    fd, tfile = tempfile.mkstemp(prefix="bench-time-")
    os.close(fd)
    logf = tempfile.TemporaryFile(mode="w+b", prefix="bench-redis-")
    r = {"rc": None, "stdout": "", "stderr": ""}
    p = None
    sock = None

    def server_log():
        logf.seek(0)
        return logf.read().decode(errors="replace")

    try:
        t0 = time.perf_counter()
        p = subprocess.Popen(timer.wrap(tfile, cmd), env=child_env(alloc),
                             stdout=logf, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                sock = Resp(port)
                if sock.cmd("PING") == "PONG":
                    break
            except (OSError, RuntimeError, ConnectionError):
                pass
            if sock:
                sock.close()
            sock = None
            if p.poll() is not None:
                break
            time.sleep(0.05)
        if sock is None:
            r["error"] = "redis-server did not start: " + tail(server_log(), 3)
            return finish(r, alloc)
        info = sock.cmd("INFO", "server").decode()
        pid = None
        for line in info.splitlines():
            if line.startswith("process_id:"):
                pid = int(line.split(":")[1])
        where = {}
        if pid is not None and alloc["preload"] is not None:
            with open("/proc/%d/maps" % pid) as f:
                maps = f.read()
            rp = os.path.realpath(alloc["preload"])
            if rp in maps or alloc["preload"] in maps:
                where["preload_mapped"] = rp
            else:
                where["preload_mapped"] = "(not mapped)"
        b = subprocess.run([bench, "-h", "127.0.0.1", "-p", str(port), "-q", "-n", str(nreq),
                            "-r", "100000", "-d", "256", "-t", "set,get,lpush,lpop"],
                           env=child_env(alloc), capture_output=True, text=True,
                           timeout=timeout)
        text = b.stdout.replace("\r", "\n")
        lines = []
        for line in text.splitlines():
            if "requests per second" in line:
                test, rest = line.split(":", 1)
                rps = float(rest.split()[0])
                lines.append("@metric rps_%s %.1f req/s" % (test.strip().lower(), rps))
        # Correctness: build values server-side, read them back, and a big value.
        want = sum(len("x" * (i % 100) + str(i)) for i in range(1, 2001))
        got = sock.cmd("EVAL",
                       "local s = 0 for i = 1, 2000 do "
                       "redis.call('SET', 'chk:' .. i, string.rep('x', i % 100) .. i) end "
                       "for i = 1, 2000 do s = s + #redis.call('GET', 'chk:' .. i) end "
                       "return s", "0")
        big = bytes((i * 7) & 0xFF for i in range(300000))
        sock.cmd("SET", "chk:big", big)
        back = sock.cmd("GET", "chk:big")
        dbsize = sock.cmd("DBSIZE")
        mem = sock.cmd("INFO", "memory").decode()
        for line in mem.splitlines():
            if line.startswith("used_memory:"):
                lines.append("@metric used_memory_MiB %.2f MiB"
                             % (int(line.split(":")[1]) / 1048576.0))
        try:
            sock.cmd("SHUTDOWN", "NOSAVE")
        except (ConnectionError, OSError, RuntimeError):
            pass
        sock.close()
        sock = None
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            kill_group(p)
        r["wall"] = time.perf_counter() - t0
        r["rc"] = p.returncode
        r["stderr"] = server_log()
        t = Timer.parse(tfile)
        if t is not None:
            r["user"], r["sys"], r["rss_kb"] = t[1], t[2], t[3]
        for k, v in where.items():
            lines.append("@%s %s" % (k, v))
        r["stdout"] = "\n".join(lines) + "\n"
        if b.returncode != 0 or len([x for x in lines if x.startswith("@metric rps_")]) != 4:
            r["error"] = "redis-benchmark failed: " + tail(b.stdout + b.stderr, 3)
        elif got != want:
            r["error"] = "EVAL checksum %r != %r" % (got, want)
        elif back != big:
            r["error"] = "300 KB value came back different"
        elif not isinstance(dbsize, int) or dbsize < 2001:
            r["error"] = "DBSIZE %r too small" % (dbsize,)
        else:
            r["stdout"] += "done\n"
        r["ok_marker"] = "done"
        return finish(r, alloc)
    except (OSError, RuntimeError, ConnectionError, subprocess.SubprocessError) as e:
        r["error"] = "redis: %s" % e
        return finish(r, alloc)
    finally:
        if sock is not None:
            sock.close()
        if p is not None and p.poll() is None:
            kill_group(p)
        logf.close()
        os.unlink(tfile)


# ---- callgrind ------------------------------------------------------------

def run_callgrind(alloc, size, n, timeout):
    vg = find_tool("valgrind")
    if vg is None:
        raise Skip("valgrind not installed")
    fd, out = tempfile.mkstemp(prefix="bench-cg-")
    os.close(fd)
    env = child_env(alloc)
    if alloc["preload"] is not None:
        env["LD_PRELOAD"] = alloc["preload"]
    cmd = [vg, "--tool=callgrind", "--callgrind-out-file=" + out, "--collect-atstart=no",
           "--toggle-collect=cg_kernel_*", os.path.join(BUILD, "microbench"), "cg", size, str(n)]
    try:
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
        if p.returncode != 0:
            return None, "valgrind exit %d: %s" % (p.returncode, tail(p.stderr, 3))
        _, _, where = parse_output(p.stdout)
        bad = check_allocator_in_effect(alloc, where, p.stderr)
        if bad:
            return None, bad
        total = None
        with open(out) as f:
            for line in f:
                if line.startswith(("totals:", "summary:")):
                    total = int(line.split()[1])
        if not total:
            return None, "no totals in callgrind output"
        return total / float(n), None
    except subprocess.TimeoutExpired:
        return None, "timed out"
    finally:
        os.unlink(out)


# --------------------------------------------------------------------------
# quick mode


def quick(args, allocs, timer):
    passed = failed = skipped = 0
    t_start = time.perf_counter()
    for name, kind, _ in selected_workloads(args):
        for a in allocs:
            label = "%-10s %-6s" % (name, a["name"])
            try:
                r = run_workload(name, kind, a, QUICK_SCALE, timer, 120)
            except Skip as e:
                log("SKIP %s %s" % (label, e))
                skipped += 1
                break
            if r["ok"]:
                passed += 1
                log("PASS %s %6.2f s  %7.1f MiB" % (label, r["wall"], r["rss_kb"] / 1024.0))
            else:
                failed += 1
                log("FAIL %s %s" % (label, r["error"]))
    if args.callgrind and (not args.only or "microbench" in args.only):
        for a in allocs:
            label = "%-10s %-6s" % ("callgrind", a["name"])
            try:
                ipp, err = run_callgrind(a, "64", 2000, 120)
            except Skip as e:
                log("SKIP %s %s" % (label, e))
                skipped += 1
                break
            if err is None:
                passed += 1
                log("PASS %s %6.1f instructions per malloc/free pair of 64 B" % (label, ipp))
            else:
                failed += 1
                log("FAIL %s %s" % (label, err))
    log("bench-quick: %.1f s, %d skipped (tool not installed)"
        % (time.perf_counter() - t_start, skipped))
    log("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


# --------------------------------------------------------------------------
# full mode


def selected_workloads(args):
    return [w for w in WORKLOADS if not args.only or w[0] in args.only]


def median(xs):
    return statistics.median(xs) if xs else None


def full(args, allocs, timer):
    rounds = args.rounds
    t_start = time.perf_counter()
    wls = selected_workloads(args)
    # results[w][a] = list of run dicts; failed[w][a] = error; skipped[w] = why
    results = {w[0]: {a["name"]: [] for a in allocs} for w in wls}
    failed = {w[0]: {} for w in wls}
    skipped = {}
    for rd in range(rounds):
        order = allocs[rd % len(allocs):] + allocs[:rd % len(allocs)]
        log("round %d/%d: order %s" % (rd + 1, rounds, ", ".join(a["name"] for a in order)))
        for name, kind, _ in wls:
            if name in skipped:
                continue
            for a in order:
                if a["name"] in failed[name]:
                    continue
                try:
                    r = run_workload(name, kind, a, args.scale, timer, args.timeout)
                except Skip as e:
                    skipped[name] = str(e)
                    log("  %-10s skipped: %s" % (name, e))
                    break
                if r["ok"]:
                    results[name][a["name"]].append(r)
                    log("  %-10s %-6s %7.3f s  cpu %7.3f s  %8.1f MiB"
                        % (name, a["name"], r["wall"], r["user"] + r["sys"],
                           r["rss_kb"] / 1024.0))
                else:
                    failed[name][a["name"]] = r["error"]
                    log("  %-10s %-6s FAILED: %s" % (name, a["name"], r["error"]))
    cg = {}
    cg_err = {}
    if args.callgrind and any(w[0] == "microbench" for w in wls):
        n = int(os.environ.get("BENCH_CG_PAIRS", "20000"))
        log("callgrind: %d pairs per size" % n)
        for a in allocs:
            for size in CG_SIZES:
                try:
                    ipp, err = run_callgrind(a, size, n, 300)
                except Skip as e:
                    cg_err["*"] = str(e)
                    break
                if err:
                    cg_err[a["name"]] = err
                    log("  callgrind %-6s %-6s FAILED: %s" % (a["name"], size, err))
                    break
                cg.setdefault(size, {})[a["name"]] = ipp
                log("  callgrind %-6s %-6s %8.1f instr/pair" % (a["name"], size, ipp))
            if "*" in cg_err:
                log("  callgrind skipped: " + cg_err["*"])
                break
    elapsed = time.perf_counter() - t_start
    os.makedirs(args.out, exist_ok=True)
    chart_ok = write_chart(args, allocs, wls, results)
    if not chart_ok:
        # Never leave a chart from an earlier run next to new tables.
        stale = os.path.join(args.out, "results.png")
        if os.path.exists(stale):
            os.unlink(stale)
    summary = write_markdown(args, allocs, wls, results, failed, skipped, cg, cg_err,
                             timer, elapsed, chart_ok)
    write_json(args, allocs, results, failed, skipped, cg)
    log("")
    log(summary)
    log("wrote %s" % os.path.join(args.out, "results.md"))
    if chart_ok:
        log("wrote %s" % os.path.join(args.out, "results.png"))
    nfail = sum(len(v) for v in failed.values()) + len([k for k in cg_err if k != "*"])
    log("bench: %.1f s total, %d failures" % (elapsed, nfail))
    return 1 if nfail else 0


def agg(runs):
    if not runs:
        return None
    walls = [r["wall"] for r in runs]
    cpus = [r["user"] + r["sys"] for r in runs]
    rss = [r["rss_kb"] / 1024.0 for r in runs]
    m = median(walls)
    metrics = {}
    for r in runs:
        for k, (v, unit) in r["metrics"].items():
            metrics.setdefault(k, ([], unit))[0].append(v)
    return {
        "wall": m, "cpu": median(cpus), "rss": median(rss),
        "spread": (max(walls) - min(walls)) / m * 100.0 if m > 0 and len(walls) > 1 else None,
        "n": len(runs),
        "metrics": {k: (median(v), unit) for k, (v, unit) in metrics.items()},
        "notes": sorted({n for r in runs for n in r["notes"]}),
    }


def geomean(xs):
    xs = [x for x in xs if x and x > 0]
    if not xs:
        return None
    return math.exp(sum(math.log(x) for x in xs) / len(xs))


def fmt(x, nd=3):
    if x is None:
        return "–"
    if nd == 3 and x == int(x) and abs(x) < 1e9:
        return "%d" % x
    if abs(x) >= 1000:
        return "%.0f" % x
    if abs(x) >= 100:
        return "%.1f" % x
    return ("%." + str(nd) + "f") % x


def machine_line():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "`%s`, CPU: %s, nproc: %s, date: %s" % (
        sh("uname -srm"), cpu, os.cpu_count(),
        datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"))


def write_markdown(args, allocs, wls, results, failed, skipped, cg, cg_err, timer, elapsed,
                   chart_ok):
    names = [a["name"] for a in allocs]
    A = {w[0]: {a: agg(results[w[0]][a]) for a in names} for w in wls}
    md = []
    md.append("# Allocator benchmark results\n")
    md.append("Machine: " + machine_line() + "\n")
    md.append("Allocators:\n")
    for a in allocs:
        extra = ""
        if a["name"] == "ours":
            extra = " — lib/libjemalloc.so.2 (measured snapshot sha256 %s…)" % a.get("sha256", "?")
        elif a["preload"]:
            extra = " — " + a["preload"]
        else:
            extra = " — no LD_PRELOAD"
        pkg = (" (%s %s)" % (a["pkg"], a["version"]) if a["pkg"]
               else " (configured VERSION %s)" % a["version"])
        md.append("- **%s**: %s%s%s" % (a["name"], a["label"], pkg, extra))
    missing = [n for n, _, _, _ in ALLOCATORS
               if (not args.allocs or n in args.allocs) and n not in names]
    if missing:
        md.append("- not installed, skipped: " + ", ".join(missing))
    md.append("")
    md.append("Method: %d round(s), median reported; allocators interleaved within each "
              "round and the order rotated every round; workload scale %g; wall time "
              "measured by the runner around each process, CPU time (user+sys) and "
              "peak RSS (max resident set) by %s. Total run time %.0f s.\n"
              % (args.rounds, args.scale,
                 "/usr/bin/time" if timer.mode == "time" else "build/bench/launch (wait4)",
                 elapsed))
    # Summary
    md.append("## Summary: ours relative to each peer\n")
    md.append("Geometric mean over workloads of ours/peer (below 1.00 = ours is faster "
              "or smaller; above 1.00 = ours is slower or bigger).\n")
    md.append("| peer | wall time | CPU time | peak RSS | workloads |")
    md.append("|---|---:|---:|---:|---:|")
    summary_lines = ["Summary (geometric mean of ours/peer over workloads; <1 = ours better):"]
    for a in names:
        if a == "ours":
            continue
        tw, tc, tr = [], [], []
        for w in wls:
            o, p = A[w[0]].get("ours"), A[w[0]].get(a)
            if o and p and p["wall"] > 0:
                tw.append(o["wall"] / p["wall"])
                tc.append(o["cpu"] / p["cpu"] if p["cpu"] > 0 else None)
                tr.append(o["rss"] / p["rss"] if p["rss"] > 0 else None)
        gw, gc, gr = geomean(tw), geomean(tc), geomean(tr)
        md.append("| %s | %s | %s | %s | %d |" % (a, fmt(gw, 2), fmt(gc, 2), fmt(gr, 2), len(tw)))
        summary_lines.append("  vs %-6s time %s  cpu %s  rss %s  (%d workloads)"
                             % (a, fmt(gw, 2), fmt(gc, 2), fmt(gr, 2), len(tw)))
    md.append("")
    fails = ["%s/%s" % (w, a) for w in failed for a in failed[w]]
    if fails:
        md.append("**Failed runs (excluded from the means, details under each "
                  "workload): %s.**\n" % ", ".join(fails))
        summary_lines.append("  FAILED: " + ", ".join(fails))
    if skipped:
        md.append("Skipped workloads: %s.\n" % "; ".join(
            "%s (%s)" % (w, why) for w, why in skipped.items()))
    if chart_ok:
        md.append("![chart](results.png)\n")
    else:
        md.append("(No chart: gnuplot is not installed or failed; "
                  "`apt-get install -y gnuplot-nox`.)\n")
    # Per workload
    for name, kind, desc in wls:
        md.append("## %s\n" % name)
        md.append(desc + ".\n")
        if name in skipped:
            md.append("Skipped: %s.\n" % skipped[name])
            continue
        md.append("| allocator | wall s | spread | CPU s | peak RSS MiB | ours/this time "
                  "| ours/this RSS |")
        md.append("|---|---:|---:|---:|---:|---:|---:|")
        o = A[name].get("ours")
        for a in names:
            s = A[name][a]
            if s is None:
                md.append("| %s | FAILED | | | | | |" % a)
                continue
            rt = fmt(o["wall"] / s["wall"], 2) if o and s["wall"] > 0 else "–"
            rr = fmt(o["rss"] / s["rss"], 2) if o and s["rss"] > 0 else "–"
            if a == "ours":
                rt = rr = "1.00" if o else "–"
            md.append("| %s | %s | %s | %s | %s | %s | %s |" % (
                a, fmt(s["wall"]), ("%.0f%%" % s["spread"]) if s["spread"] is not None else "–",
                fmt(s["cpu"]), fmt(s["rss"], 1), rt, rr))
        md.append("")
        for a, err in failed[name].items():
            md.append("- **%s failed**: `%s`" % (a, err.replace("`", "'")[:300]))
        if failed[name]:
            md.append("")
        if name == "redis":
            md.append("Wall time covers server start, the benchmark and shutdown; CPU "
                      "and peak RSS are the server's. The glibc row preloads libc.so.6 "
                      "because Debian's redis-server links libjemalloc.\n")
        # details
        keys = []
        for a in names:
            if A[name][a]:
                for k in A[name][a]["metrics"]:
                    if k not in keys:
                        keys.append(k)
        if keys:
            md.append("<details><summary>workload metrics (median)</summary>\n")
            md.append("| metric | unit | " + " | ".join(names) + " |")
            md.append("|---|---|" + "---:|" * len(names))
            for k in keys:
                unit = ""
                vals = []
                for a in names:
                    s = A[name][a]
                    if s and k in s["metrics"]:
                        v, unit = s["metrics"][k]
                        vals.append(fmt(v, 3))
                    else:
                        vals.append("–")
                md.append("| %s | %s | %s |" % (k, unit, " | ".join(vals)))
            md.append("")
            notes = sorted({"%s: %s" % (a, n) for a in names if A[name][a]
                            for n in A[name][a]["notes"]})
            for n in notes:
                md.append("- " + n)
            md.append("\n</details>\n")
        if name == "microbench" and (cg or cg_err):
            md.append("### microbench under callgrind: instructions per malloc/free pair\n")
            if "*" in cg_err:
                md.append("Skipped: %s.\n" % cg_err["*"])
            else:
                md.append("Counted with `valgrind --tool=callgrind --toggle-collect="
                          "cg_kernel_*` over %s pairs after a warm-up, so start-up is "
                          "excluded; the loop itself adds a few instructions. `mixed` = "
                          "free + malloc in a 1000-object ring of 8..4096 B. Kernel-side "
                          "work (page faults, syscalls) is not counted.\n"
                          % os.environ.get("BENCH_CG_PAIRS", "20000"))
                md.append("| size | " + " | ".join(names) + " |")
                md.append("|---|" + "---:|" * len(names))
                for size in CG_SIZES:
                    if size in cg:
                        md.append("| %s | %s |" % (size, " | ".join(
                            fmt(cg[size].get(a), 1) for a in names)))
                md.append("")
                for a, err in cg_err.items():
                    md.append("- **%s failed under callgrind**: `%s`" % (a, err[:300]))
                md.append("")
    md.append("## How to read this\n")
    md.append("Lower is better everywhere. `ours/this` below 1.00 means ours beat that "
              "allocator on this workload. `spread` is (max-min)/median of the wall times "
              "over the rounds: differences smaller than the spread are noise. Peak RSS "
              "includes the program itself (binary, libc, thread stacks); see the frag "
              "metrics for heap overhead alone. See bench/README.md.\n")
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write("\n".join(md))
    return "\n".join(summary_lines)


def write_json(args, allocs, results, failed, skipped, cg):
    raw = {"machine": machine_line(), "rounds": args.rounds, "scale": args.scale,
           "allocators": allocs, "skipped": skipped, "failed": failed, "callgrind": cg,
           "runs": {w: {a: [dict({k: r[k] for k in ("wall", "user", "sys", "rss_kb")},
                                  metrics={m: v[0] for m, v in r["metrics"].items()})
                             for r in runs] for a, runs in per.items()}
                    for w, per in results.items()}}
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(raw, f, indent=1, sort_keys=True)


def write_chart(args, allocs, wls, results):
    gp = shutil.which("gnuplot")
    if gp is None:
        log("gnuplot not installed (apt-get install -y gnuplot-nox): no chart")
        return False
    names = [a["name"] for a in allocs]
    rows = []
    for name, _, _ in wls:
        ag = {a: agg(results[name][a]) for a in names}
        present = [ag[a] for a in names if ag[a]]
        if not present:
            continue
        bw = min(s["wall"] for s in present)
        br = min(s["rss"] for s in present)
        rows.append((name, [("%.4f" % (ag[a]["wall"] / bw)) if ag[a] else "-" for a in names],
                     [("%.4f" % (ag[a]["rss"] / br)) if ag[a] else "-" for a in names]))
    if not rows:
        return False
    dat = os.path.join(args.out, "chart.dat")
    with open(dat, "w") as f:
        f.write("# workload " + " ".join("time_" + a for a in names) + " " +
                " ".join("rss_" + a for a in names) + "\n")
        for name, t, r in rows:
            f.write(name + " " + " ".join(t) + " " + " ".join(r) + "\n")
    n = len(names)
    colors = ["#7f7f7f", "#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd"]
    plot_t = ", ".join("'%s' using %d:xtic(1) title '%s' lc rgb '%s'"
                       % ("chart.dat", 2 + i, names[i], colors[i % len(colors)]) for i in range(n))
    plot_r = ", ".join("'%s' using %d:xtic(1) notitle lc rgb '%s'"
                       % ("chart.dat", 2 + n + i, colors[i % len(colors)]) for i in range(n))
    script = f"""
set terminal pngcairo size 1400,900 font 'Sans,10'
set output 'results.png'
set datafile missing '-'
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y 2
set yrange [0.8:*]
set grid ytics
set xtics rotate by -30 scale 0
set key outside right top
set multiplot layout 2,1 title 'Allocator benchmark ({len(rows)} workloads, median of {args.rounds} round(s)) — lower is better; 1.0 = best allocator on that workload'
set title 'Wall time relative to the fastest'
set ylabel 'time / fastest (log scale)'
plot {plot_t}
set title 'Peak RSS relative to the smallest'
set ylabel 'RSS / smallest (log scale)'
plot {plot_r}
unset multiplot
"""
    gpf = os.path.join(args.out, "chart.gp")
    with open(gpf, "w") as f:
        f.write(script)
    p = subprocess.run([gp, "chart.gp"], capture_output=True, text=True, cwd=args.out)
    if p.returncode != 0:
        log("gnuplot failed: " + tail(p.stderr, 3))
        return False
    return True


# --------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", "3")))
    ap.add_argument("--only", default=os.environ.get("BENCH_ONLY", ""))
    ap.add_argument("--allocs", default=os.environ.get("BENCH_ALLOCS", ""))
    ap.add_argument("--scale", type=float, default=None)
    ap.add_argument("--no-callgrind", dest="callgrind", action="store_false",
                    default=os.environ.get("BENCH_CALLGRIND", "1") not in ("0", "no", "off", ""))
    ap.add_argument("--out", default=os.environ.get("BENCH_OUT", os.path.join(HERE, "results")))
    ap.add_argument("--timeout", type=int, default=int(os.environ.get("BENCH_TIMEOUT", "300")))
    args = ap.parse_args()
    args.only = [x for x in args.only.replace(",", " ").split() if x]
    args.allocs = [x for x in args.allocs.replace(",", " ").split() if x]
    known = {w[0] for w in WORKLOADS}
    for w in args.only:
        if w not in known:
            sys.exit("unknown workload %r (known: %s)" % (w, ", ".join(sorted(known))))
    for a in args.allocs:
        if a not in {x[0] for x in ALLOCATORS}:
            sys.exit("unknown allocator %r" % a)
    if args.scale is None:
        args.scale = float(os.environ.get("BENCH_SCALE", QUICK_SCALE if args.quick else 1.0))
    if args.rounds < 1:
        sys.exit("--rounds must be >= 1")
    if args.quick and args.allocs and "ours" not in args.allocs:
        args.allocs.append("ours")

    timer = Timer()
    log("allocator benchmark: %s mode, timer %s" % ("quick" if args.quick else "full",
                                                    timer.mode))
    build(need_launcher=(timer.mode == "launch"))
    allocs = setup_allocators(args.allocs)
    log("allocators: " + ", ".join(a["name"] for a in allocs))
    if args.quick:
        return quick(args, allocs, timer)
    return full(args, allocs, timer)


if __name__ == "__main__":
    sys.exit(main())
