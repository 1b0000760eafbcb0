#!/usr/bin/env python3
"""Fails when a crate's modules import each other in a circle.

For each crate given (its `src/` directory), every `.rs` file is a module; a path that starts
with `crate::` or `super::` names the module it comes from (the longest prefix that is a file
of the crate). A module's `mod.rs` and the files of its own folder are one idea (the folder
declares them, they may use its shared items), so edges between them do not count. Any other
circle is printed, with the names that tie it, and the exit code is 1.

    tools/lint/module_cycles.py server/src app/src engine/src
"""

import re
import sys
from pathlib import Path

PATH = re.compile(r"\b(crate|super(?:::super)*)::((?:[A-Za-z_][A-Za-z0-9_]*::)*[A-Za-z_][A-Za-z0-9_]*)")
USE_GROUP = re.compile(r"\buse\s+(crate|super(?:::super)*)::([^;]*);", re.S)


def module_of(src: Path, file: Path) -> tuple[str, ...]:
    parts = list(file.relative_to(src).with_suffix("").parts)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return tuple(parts)


def strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return "\n".join(line.split("//")[0] for line in text.splitlines())


def expand_use(tail: str) -> list[str]:
    """`a::{b, c::{d}}` -> ["a::b", "a::c::d"] (enough for module resolution)."""
    tail = re.sub(r"\s+as\s+[A-Za-z_][A-Za-z0-9_]*", "", tail)
    tail = re.sub(r"\s+", "", tail)
    out = []

    def walk(prefix: str, rest: str):
        if "{" not in rest:
            for item in rest.split(","):
                if item:
                    out.append(prefix + item)
            return
        head, _, inner = rest.partition("{")
        depth, i = 1, 0
        while i < len(inner) and depth:
            depth += {"{": 1, "}": -1}.get(inner[i], 0)
            i += 1
        body, after = inner[: i - 1], inner[i:]
        items, depth, start = [], 0, 0
        for j, ch in enumerate(body):
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            elif ch == "," and depth == 0:
                items.append(body[start:j])
                start = j + 1
        items.append(body[start:])
        for item in items:
            walk(prefix + head, item)
        if after.strip(","):
            walk(prefix, after.strip(","))

    walk("", tail)
    return out


def resolve(modules: set, base: tuple, path: list[str]):
    """The longest module named by `base` + a prefix of `path`."""
    for n in range(len(path), -1, -1):
        candidate = base + tuple(path[:n])
        if candidate in modules:
            return candidate
    return None


def check(src: Path) -> list[str]:
    files = {module_of(src, f): f for f in src.rglob("*.rs")}
    modules = set(files)
    edges: dict[tuple, dict[tuple, set]] = {m: {} for m in modules}
    for module, file in files.items():
        text = strip_comments(file.read_text())
        is_folder = file.name in ("mod.rs", "lib.rs", "main.rs")
        paths = []
        for root, tail in USE_GROUP.findall(text):
            paths += [(root, p) for p in expand_use(tail)]
        paths += PATH.findall(text)
        for root, rest in paths:
            segments = [s for s in rest.split("::") if s]
            if root == "crate":
                base = ()
            else:
                # `super` is the parent of this module, whether it is a file or a folder.
                base = module[: max(0, len(module) - root.count("super"))]
            target = resolve(modules, base, segments)
            if target is None or target == module:
                continue
            # A folder and the files it declares are one idea.
            if target == module[:-1] or module == target[:-1]:
                continue
            if target[: len(module)] == module and is_folder:
                continue
            name = segments[len(target) - len(base)] if len(segments) > len(target) - len(base) else segments[-1]
            edges[module].setdefault(target, set()).add(name)
    return [describe(scc, edges, files) for scc in tarjan(edges) if len(scc) > 1]


def tarjan(edges):
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = []
            while True:
                w = stack.pop()
                on.discard(w)
                scc.append(w)
                if w == v:
                    break
            out.append(scc)

    sys.setrecursionlimit(10_000)
    for v in list(edges):
        if v not in index:
            visit(v)
    return out


def describe(scc, edges, files):
    lines = [f"a circle of {len(scc)} modules:"]
    members = set(scc)
    for m in sorted(scc):
        for target, names in sorted(edges[m].items()):
            if target in members:
                lines.append(f"  {files[m]} -> {files[target]}: {', '.join(sorted(names))}")
    return "\n".join(lines)


def main() -> int:
    failures = []
    for arg in sys.argv[1:]:
        failures += check(Path(arg))
    for f in failures:
        print(f, file=sys.stderr)
    if failures:
        print(f"{len(failures)} module circle(s): move what both sides need to where both may import it", file=sys.stderr)
        return 1
    print(f"no module circles in {' '.join(sys.argv[1:])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
