#!/usr/bin/env python3
"""Lists Rust functions longer than a limit in src/ and actors/src/ (tests aside).

A function is counted from its `fn` line to its closing brace, by brace depth outside
strings and comments. `#[cfg(test)]` modules and `*_tests.rs` files are skipped. A function
may run longer when a comment line `// long: <reason>` sits right above it.
Exit 1 when any function is over the limit, so CI keeps the rule.
"""
import pathlib
import re
import sys

LIMIT = 70
# Route handlers in src/api should stay under this; listed as notes, not failures.
HANDLER_LIMIT = 40
ROOTS = ["src", "actors/src"]
FN = re.compile(r"^\s*(pub(\([^)]*\))?\s+)?(async\s+)?(const\s+)?fn\s+(\w+)")


def strip(line, in_block):
    """The code of a line without strings, chars and comments; and the block-comment state."""
    out, i = [], 0
    while i < len(line):
        if in_block:
            end = line.find("*/", i)
            if end < 0:
                return "".join(out), True
            i, in_block = end + 2, False
        elif line.startswith("//", i):
            break
        elif line.startswith("/*", i):
            in_block, i = True, i + 2
        elif line[i] == '"':
            j = i + 1
            while j < len(line) and line[j] != '"':
                j += 2 if line[j] == "\\" else 1
            i = j + 1
        elif line[i] == "'" and re.match(r"'(\\.|[^\\'])'", line[i:]):
            i += len(re.match(r"'(\\.|[^\\'])'", line[i:]).group(0))
        else:
            out.append(line[i])
            i += 1
    return "".join(out), in_block


def long_functions(path, limit):
    lines = path.read_text().splitlines()
    found, in_block, i = [], False, 0
    test_depth = None
    depth = 0
    while i < len(lines):
        code, in_block = strip(lines[i], in_block)
        if "#[cfg(test)]" in lines[i] and test_depth is None:
            test_depth = depth
        match = FN.match(code)
        if match and test_depth is None:
            start, name, fn_depth, opened = i, match.group(5), depth, False
            reason = i > 0 and lines[i - 1].strip().startswith("// long:")
            while i < len(lines):
                code, in_block = strip(lines[i], in_block)
                for ch in code:
                    if ch == "{":
                        depth, opened = depth + 1, True
                    elif ch == "}":
                        depth -= 1
                if opened and depth == fn_depth:
                    break
                if not opened and code.rstrip().endswith(";"):
                    break
                i += 1
            length = i - start + 1
            if opened and length > limit and not reason:
                found.append((path, start + 1, name, length))
            i += 1
            continue
        for ch in code:
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if test_depth is not None and depth <= test_depth:
                    test_depth = None
        i += 1
    return found


def main():
    limit_hits, api_long = [], []
    for root in ROOTS:
        for path in sorted(pathlib.Path(root).rglob("*.rs")):
            if path.name.endswith("_tests.rs"):
                continue
            for hit in long_functions(path, HANDLER_LIMIT):
                (limit_hits if hit[3] > LIMIT else api_long if root == "src" and "api" in path.parts else []).append(hit)
    for path, line, name, length in limit_hits:
        print(f"{path}:{line}: fn {name} is {length} lines (limit {LIMIT})")
    for path, line, name, length in api_long:
        print(f"note: {path}:{line}: fn {name} is {length} lines (handlers: ~{HANDLER_LIMIT})")
    print(f"function lengths: {len(limit_hits)} over {LIMIT} lines")
    return 1 if limit_hits else 0


if __name__ == "__main__":
    sys.exit(main())
