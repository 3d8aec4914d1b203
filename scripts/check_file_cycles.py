#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Checks that the source files of a folder depend on each other one way
only: no circle of files calling each other's functions (docs/ARCHITECTURE.md,
issue 18 "small files with one concern" and "no circle between files").

It reads the object files the build made for the folder's sources (nm: the
global symbols each defines and the ones it leaves undefined), draws an
arrow from a file to every other file of the same folder that defines a
symbol it uses, and reports every cycle of that graph: the files in order
and, for each arrow, the symbols that make it. Symbols from other folders
(lower layers, libc) are not arrows: check_layers.py checks those.

Objects are looked up as CMake places them: for a source SRC/<d>/<f>.c
built by a target defined in SRC/<d0>/CMakeLists.txt, the object is
BUILD/<d0>/CMakeFiles/<target>.dir/<d relative to d0>/<f>.c.o. Objects
whose source no longer exists (a file removed since the last build) are
ignored; a source built by several targets counts once (the newest object).

Usage: check_file_cycles.py [--source DIR] BUILD_DIR FOLDER...
  FOLDER relative to the source tree (default: the repository this script
  is in), e.g. src/keyring src/messages src/client.
Exit status: 0 no cycle, 1 a cycle (one block per cycle), 2 a folder has no
object files (not built, or a wrong path) or nm failed."""
import argparse
import os
import subprocess
import sys

# How many cycles of one strongly connected group are listed before the
# rest is only counted (a large tangle has very many).
MAX_CYCLES = 50


def objects_of(build, source, folder):
    """{source path relative to the source tree: object path}"""
    found = {}
    for root, _dirs, files in os.walk(build):
        parts = root.split(os.sep)
        if "CMakeFiles" not in parts:
            continue
        i = len(parts) - 1 - parts[::-1].index("CMakeFiles")
        if i + 1 >= len(parts) or not parts[i + 1].endswith(".dir"):
            continue
        base = os.path.relpath(os.sep.join(parts[:i]), build)  # the CMakeLists' folder
        rel = os.sep.join(parts[i + 2:])  # below <target>.dir
        for f in files:
            if not f.endswith(".o"):
                continue
            src = os.path.normpath(os.path.join(base, rel, f[:-2]))
            if os.path.dirname(src) != os.path.normpath(folder):
                continue
            if not os.path.isfile(os.path.join(source, src)):
                continue  # a stale object of a removed source
            obj = os.path.join(root, f)
            if src not in found or os.path.getmtime(obj) > os.path.getmtime(found[src]):
                found[src] = obj
    return found


def symbols(obj):
    """(defined global symbols, undefined symbols) of an object file"""
    out = subprocess.run(["nm", "-P", obj], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError("nm %s: %s" % (obj, out.stderr.strip()))
    defined, undefined = set(), set()
    for line in out.stdout.splitlines():
        f = line.split()
        if len(f) < 2:
            continue
        name, kind = f[0], f[1]
        if kind in ("U", "w", "v"):
            undefined.add(name)
        elif kind.isupper() or kind == "u":
            defined.add(name)  # lower case: file-local (static)
    return defined, undefined


def graph_of(objs):
    """{file: {file it uses: [symbols]}} over the files of one folder"""
    defs, uses = {}, {}
    for src, obj in sorted(objs.items()):
        d, u = symbols(obj)
        uses[src] = u
        for s in d:
            defs.setdefault(s, src)
    g = {src: {} for src in objs}
    for src, u in uses.items():
        for s in sorted(u):
            to = defs.get(s)
            if to is not None and to != src:
                g[src].setdefault(to, []).append(s)
    return g


def strongly_connected(g):
    """Tarjan's groups of files that reach each other (iterative)"""
    index, low, on, stack, groups = {}, {}, set(), [], []
    counter = [0]
    for start in sorted(g):
        if start in index:
            continue
        work = [(start, iter(sorted(g[start])))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on.add(start)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(g[w]))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                group = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    group.append(w)
                    if w == v:
                        break
                groups.append(sorted(group))
    return groups


def cycles_in(g, group):
    """The elementary cycles within a group, each starting at its smallest
    file (so each is listed once), at most MAX_CYCLES; and how many more"""
    members = set(group)
    found, extra = [], 0
    for start in group:
        # paths from start through files greater than start, back to start
        path = [start]
        work = [iter(sorted(w for w in g[start] if w in members and w >= start))]
        while work:
            w = next(work[-1], None)
            if w is None:
                work.pop()
                path.pop()
                continue
            if w == start:
                if len(found) < MAX_CYCLES:
                    found.append(path + [start])
                else:
                    extra += 1
                continue
            if w in path:
                continue
            path.append(w)
            work.append(iter(sorted(x for x in g[w] if x in members and x >= start)))
    return found, extra


def levels_of(g):
    """The files by level, for a graph without cycles: level 0 uses no file
    of the folder, level n uses files of levels below n only (and one of
    level n - 1)"""
    level = {}

    def visit(v):
        if v not in level:
            level[v] = 1 + max((visit(w) for w in g[v]), default=-1)
        return level[v]

    for v in g:
        visit(v)
    return [sorted(v for v in g if level[v] == n) for n in range(max(level.values()) + 1)]


def check(build, source, folder):
    objs = objects_of(build, source, folder)
    if not objs:
        print("check_file_cycles: no object files for %s under %s (build first)" % (folder, build))
        return 2
    g = graph_of(objs)
    groups = [grp for grp in strongly_connected(g) if len(grp) > 1]
    if not groups:
        print("check_file_cycles: %s: %d files, no cycle; from the bottom up:" % (folder, len(objs)))
        for n, files in enumerate(levels_of(g)):
            print("  %d: %s" % (n, " ".join(os.path.basename(f) for f in files)))
        return 0
    total = 0
    for grp in groups:
        cycles, extra = cycles_in(g, grp)
        total += len(cycles) + extra
        for c in cycles:
            steps = ["  %s -> %s: %s" % (a, b, ", ".join(g[a][b])) for a, b in zip(c, c[1:])]
            print("check_file_cycles: cycle %s\n%s"
                  % (" -> ".join(os.path.basename(f) for f in c), "\n".join(steps)))
        if extra:
            print("check_file_cycles: ... and %d more cycles among %s" % (extra, " ".join(grp)))
    print("check_file_cycles: %s: %d cycle(s) among %d files: make the arrows point one way "
          "(move what both sides use into a file below them)"
          % (folder, total, sum(len(grp) for grp in groups)))
    return 1


def main():
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", default=here, help="the source tree (default: this repository)")
    ap.add_argument("build", help="the CMake build tree")
    ap.add_argument("folders", nargs="+", help="source folders, e.g. src/keyring")
    a = ap.parse_args()
    status = 0
    for folder in a.folders:
        try:
            status = max(status, check(a.build, a.source, folder))
        except RuntimeError as e:
            print("check_file_cycles: %s" % e)
            status = 2
    return status


if __name__ == "__main__":
    sys.exit(main())
