#!/usr/bin/env python3
"""Runs a modc GPU kit on an NVIDIA GPU: loads each case's PTX with CuPy (cuModuleLoadData through
cupy.RawModule), uploads the input files, launches the entry with the manifest's grid, block and parameters,
compares the written buffers with the expected files, times the launch with CUDA events, and writes a JSON
report. --dry-run checks the manifest and every data file without a GPU (no CuPy or NumPy needed).

    python3 run_kit.py --kit . --report report.json [--only SUBSTRING] [--dry-run]
"""
import argparse
import json
import os
import sys

FORMAT = "modc-gpu-kit/1"
DTYPE_BYTES = {"f32": 4, "i32": 4, "u32": 4, "f16": 2, "bf16": 2, "u8": 1}


class KitError(Exception):
    """A manifest or data problem, named by case and file."""


def parse_args(argv):
    p = argparse.ArgumentParser(description="Run a modc GPU kit (PTX + launch manifest) and report.")
    p.add_argument("--kit", default=os.path.dirname(os.path.abspath(__file__)), help="kit directory (default: this script's)")
    p.add_argument("--report", default="report.json", help="JSON report path")
    p.add_argument("--only", default=None, help="run only cases whose name contains this")
    p.add_argument("--dry-run", action="store_true", help="check the manifest and data files; launch nothing")
    p.add_argument("--iterations", type=int, default=None, help="timed launches per case (default: the manifest's)")
    return p.parse_args(argv)


def load_manifest(kit):
    path = os.path.join(kit, "manifest.json")
    try:
        with open(path, "r", encoding="utf8") as f:
            m = json.load(f)
    except (OSError, ValueError) as e:
        raise KitError("%s: %s" % (path, e))
    if m.get("format") != FORMAT:
        raise KitError("%s: format %r, expected %r" % (path, m.get("format"), FORMAT))
    for c in m.get("cases", []):
        where = "case %r" % c.get("name")
        ptx = os.path.join(kit, c["ptx"])
        if not os.path.isfile(ptx):
            raise KitError("%s: PTX file %s is missing" % (where, ptx))
        names = set()
        for b in c["buffers"]:
            if b["dtype"] not in DTYPE_BYTES:
                raise KitError("%s: buffer %r has unknown dtype %r" % (where, b["name"], b["dtype"]))
            if b["bytes"] != b["elems"] * DTYPE_BYTES[b["dtype"]]:
                raise KitError("%s: buffer %r: %d bytes for %d %s elements" % (where, b["name"], b["bytes"], b["elems"], b["dtype"]))
            for key in ("input", "expect"):
                rel = b.get(key)
                if rel is None:
                    continue
                f = os.path.join(kit, rel)
                if not os.path.isfile(f):
                    raise KitError("%s: %s file %s is missing" % (where, key, f))
                if os.path.getsize(f) != b["bytes"]:
                    raise KitError("%s: %s has %d bytes, the manifest says %d" % (where, f, os.path.getsize(f), b["bytes"]))
            names.add(b["name"])
        for p in c["params"]:
            if p["kind"] == "buffer" and p["buffer"] not in names:
                raise KitError("%s: parameter names buffer %r, which the case does not declare" % (where, p["buffer"]))
            if p["kind"] not in ("buffer", "i32", "f32"):
                raise KitError("%s: parameter kind %r" % (where, p["kind"]))
        if len(c["grid"]) != 3 or len(c["block"]) != 3:
            raise KitError("%s: grid and block need 3 axes" % where)
    return m


def as_values(np, raw, dtype):
    """Bytes of a buffer as float64 / int64 values (f16 and bf16 widened exactly)."""
    if dtype == "f32":
        return np.frombuffer(raw, dtype=np.float32).astype(np.float64)
    if dtype == "f16":
        return np.frombuffer(raw, dtype=np.float16).astype(np.float64)
    if dtype == "bf16":
        return (np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32).astype(np.float64)
    return np.frombuffer(raw, dtype={"i32": np.int32, "u32": np.uint32, "u8": np.uint8}[dtype]).astype(np.int64)


def mismatch(np, got, want, dtype, compare):
    """The first difference as text, or None."""
    floats = dtype in ("f32", "f16", "bf16")
    if compare == "exact":
        if got == want:
            return None
        g, w = as_values(np, got, dtype), as_values(np, want, dtype)
        if floats:
            same = (np.frombuffer(got, dtype=np.uint8).reshape(len(g), -1) == np.frombuffer(want, dtype=np.uint8).reshape(len(w), -1)).all(axis=1)
            same |= np.isnan(g) & np.isnan(w)
        else:
            same = g == w
        bad = np.nonzero(~same)[0]
        if len(bad) == 0:
            return None
        i = int(bad[0])
        return "element %d: %r vs %r (%d elements differ)" % (i, g[i], w[i], len(bad))
    g, w = as_values(np, got, dtype), as_values(np, want, dtype)
    ok = (np.abs(g - w) <= compare["abs"] + compare["rel"] * np.abs(w)) | (np.isnan(g) & np.isnan(w))
    bad = np.nonzero(~ok)[0]
    if len(bad) == 0:
        return None
    i = int(bad[0])
    return "element %d: %r vs %r (abs %g, rel %g; %d elements differ)" % (i, g[i], w[i], compare["abs"], compare["rel"], len(bad))


def run_case(cp, np, kit, c, iterations, warmup):
    mod = cp.RawModule(path=os.path.join(kit, c["ptx"]))
    fn = mod.get_function(c["entry"])
    dev = {}
    for b in c["buffers"]:
        with open(os.path.join(kit, b["input"]), "rb") as f:
            host = np.frombuffer(f.read(), dtype=np.uint8)
        arr = cp.empty(max(4, b["bytes"]), dtype=cp.uint8)
        if b["bytes"]:
            arr[: b["bytes"]].set(host)
        dev[b["name"]] = arr
    args = []
    for p in c["params"]:
        if p["kind"] == "buffer":
            args.append(dev[p["buffer"]])
        elif p["kind"] == "i32":
            args.append(np.int32(p["value"]))
        else:
            args.append(np.float32(p["value"]))
    grid, block = tuple(c["grid"]), tuple(c["block"])
    fn(grid, block, tuple(args))
    cp.cuda.runtime.deviceSynchronize()
    problems = []
    for b in c["buffers"]:
        if b.get("expect") is None:
            continue
        with open(os.path.join(kit, b["expect"]), "rb") as f:
            want = f.read()
        got = dev[b["name"]][: b["bytes"]].get().tobytes()
        m = mismatch(np, got, want, b["dtype"], c["compare"])
        if m is not None:
            problems.append("%s: %s" % (b["name"], m))
    for _ in range(warmup):
        fn(grid, block, tuple(args))
    start, end = cp.cuda.Event(), cp.cuda.Event()
    start.record()
    for _ in range(iterations):
        fn(grid, block, tuple(args))
    end.record()
    end.synchronize()
    ms = cp.cuda.get_elapsed_time(start, end) / max(1, iterations)
    return {"name": c["name"], "entry": c["entry"], "ok": not problems, "mismatches": problems, "ms": ms}


def main(argv):
    a = parse_args(argv)
    try:
        m = load_manifest(a.kit)
    except KitError as e:
        print("run_kit: %s" % e, file=sys.stderr)
        return 2
    cases = [c for c in m["cases"] if a.only is None or a.only in c["name"]]
    timing = m.get("timing", {})
    iterations = a.iterations if a.iterations is not None else int(timing.get("iterations", 20))
    warmup = int(timing.get("warmup", 3))
    report = {"format": "modc-gpu-kit-report/1", "ptx": m["ptx"], "dry_run": a.dry_run, "cases": []}
    if a.dry_run:
        for c in cases:
            report["cases"].append({"name": c["name"], "entry": c["entry"], "grid": c["grid"], "block": c["block"], "buffers": len(c["buffers"]), "planned": True})
    else:
        try:
            import cupy as cp
            import numpy as np
        except ImportError as e:
            print("run_kit: CuPy and NumPy are needed to run the kit (%s); --dry-run checks it without them" % e, file=sys.stderr)
            return 3
        props = cp.cuda.runtime.getDeviceProperties(0)
        report["device"] = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
        report["compute_capability"] = "%d.%d" % (props["major"], props["minor"])
        report["driver_version"] = cp.cuda.runtime.driverGetVersion()
        for c in cases:
            try:
                report["cases"].append(run_case(cp, np, a.kit, c, iterations, warmup))
            except Exception as e:  # one failing case must not hide the others
                report["cases"].append({"name": c["name"], "entry": c["entry"], "ok": False, "error": "%s: %s" % (type(e).__name__, e)})
    report["passed"] = sum(1 for r in report["cases"] if r.get("ok"))
    report["failed"] = sum(1 for r in report["cases"] if r.get("ok") is False)
    with open(a.report, "w", encoding="utf8") as f:
        json.dump(report, f, indent=1)
    print("%d passed, %d failed" % (report["passed"], report["failed"]) if not a.dry_run else "dry run: %d cases checked" % len(cases))
    return 1 if report["failed"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
