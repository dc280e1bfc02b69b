#!/usr/bin/env python3
"""Writes the traces of docs/performance.md's "Analysis: cost growth with the input" (NDJSON, trace format v1).

    scripts/make-growth-traces.py KIND N OUT.ndjson

OUT ending in .gz is written gzip-compressed, in .zst zstd-compressed (through the `zstd` command).

KIND is one of:
  roots     N root names, each holding its own 32 B object
  closed    N connections (a Timeout in `timers` holding a closure, both tagged conn-I), each closed by a `mark`
  ring      a doubly linked ring of N objects held by `timers` (Node's timer list)
  rootsets  a 200 k-object list held by `globals`, and N root sets each holding one object of it
  pages     N pretenured page-sized objects, held, then dropped, then one full GC releases their pages
"""
import gzip, json, shutil, subprocess, sys
def header(f, name):
    f.write(json.dumps({"format":"gc-sim-trace","version":1,"name":name})+"\n")
kind, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def create(out):
    """The output file, compressed as it is written when its name ends in .gz or .zst."""
    if out.endswith(".gz"):
        return gzip.open(out, "wt")
    if out.endswith(".zst"):
        if shutil.which("zstd") is None:
            sys.exit(f"{out}: writing .zst needs the zstd command")
        zstd = subprocess.Popen(["zstd", "-q", "-f", "-o", out], stdin=subprocess.PIPE, text=True)
        class Zstd:
            def __enter__(self): return zstd.stdin
            def __exit__(self, *exc):
                zstd.stdin.close()
                if zstd.wait() != 0:
                    sys.exit(f"{out}: zstd failed")
        return Zstd()
    return open(out, "w")
with create(out) as f:
    if kind == "roots":   # n root names, each holding its own object
        header(f, f"{n} root names")
        for i in range(n):
            f.write(f'{{"op":"alloc","id":{i},"size":32,"root":"r{i}"}}\n')
    elif kind == "closed":  # n connections: Timeout in timers -> closure, tag conn-i, then closed
        header(f, f"{n} closed connections")
        for i in range(n):
            f.write(f'{{"op":"alloc","id":{2*i},"size":104,"slots":1,"kind":"Timeout","tag":"conn-{i}","root":"timers"}}\n')
            f.write(f'{{"op":"alloc","id":{2*i+1},"size":64,"kind":"closure","tag":"conn-{i}"}}\n')
            f.write(f'{{"op":"write","obj":{2*i},"slot":0,"to":{2*i+1}}}\n')
            f.write(f'{{"op":"mark","label":"conn-{i} closes","closes":"conn-{i}"}}\n')
    elif kind == "ring":  # doubly linked ring of n objects held by timers
        header(f, f"ring of {n}")
        f.write('{"op":"alloc","id":0,"size":24,"slots":2,"root":"timers"}\n')
        for i in range(1, n):
            f.write(f'{{"op":"alloc","id":{i},"size":24,"slots":2}}\n')
            f.write(f'{{"op":"write","obj":{i-1},"slot":0,"to":{i}}}\n')
            f.write(f'{{"op":"write","obj":{i},"slot":1,"to":{i-1}}}\n')
        f.write(f'{{"op":"write","obj":{n-1},"slot":0,"to":0}}\n')
        f.write(f'{{"op":"write","obj":0,"slot":1,"to":{n-1}}}\n')
    elif kind == "rootsets":  # 200k objects in one list, n root sets each holding one object of it
        header(f, f"{n} root sets on 200k objects")
        m = 200000
        f.write('{"op":"alloc","id":0,"size":16,"slots":1,"root":"globals"}\n')
        for i in range(1, m):
            f.write(f'{{"op":"alloc","id":{i},"size":16,"slots":1}}\n')
            f.write(f'{{"op":"write","obj":{i-1},"slot":0,"to":{i}}}\n')
        for r in range(n):
            f.write(f'{{"op":"root","id":{(r*7919)%m},"root":"set{r}"}}\n')
    elif kind == "pages":  # n pretenured page-sized objects, held then dropped, then a full GC releases the pages
        f.write(json.dumps({"format":"gc-sim-trace","version":1,"name":f"{n} pages","heap":{"max_old_generation_size":1<<40, "large_object_threshold":257720}})+"\n")
        for i in range(n):
            f.write(f'{{"op":"alloc","id":{i},"size":257720,"pretenured":true,"root":"cache"}}\n')
        for i in range(n):
            f.write(f'{{"op":"unroot","id":{i},"root":"cache"}}\n')
        f.write('{"op":"gc","kind":"major"}\n')
