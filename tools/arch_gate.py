#!/usr/bin/env python3
"""arch_gate.py — the architecture gate that CI runs (tools/dev.sh test, before the suite).

    tools/arch_gate.py [ROOT]     check the tree at ROOT (default: this repository)

It checks the hand-written sources (.c .h .def .l .y) under frontend/ ir/ passes/ codegen/
runtime/ driver/ support/ and exits 1, naming each offender as FILE:LINE, when
  - a file passes 800 lines;
  - a function passes 60 lines, or the 90th percentile of the function lengths passes 30:
    lengths are end - start + 1 as Universal Ctags reports them (--fields=+ne --c-kinds=f) over
    the .c files. Ctags takes a file-scope macro invocation such as `ELOSS(mse)` (a tag named in
    capitals whose line starts with its name and '(') for a K&R function running to the end of
    the next definition; such macros are no functions as written (their body is their #define
    line), so the gate lists them, reruns ctags told to skip them (-I NAME+), and measures the
    real functions around them;
  - an include crosses a layer: passes/ and codegen/ include no runtime/ header but the two
    shared with generated code (dlrt_abi.h, dlrt_cuda_program.h); no driver/ file includes a
    codegen/ *_internal.h; the frontend includes no passes/ header;
  - the folders' include graph (an edge A -> B for each `#include "../B/..."` in A) has a cycle;
  - an exported function or variable (a definition without `static`, as ctags reports it: no
    `file:` scope) lacks its folder's prefix (PREFIXES below: frontend lex_/parse_/ast_/lower_,
    ir ir_, passes pass_, codegen cg_, runtime dlrt_, driver dlc_, support its modules' own).
It prints the function-length median and p90 (nearest rank). Exit 2: ctags missing or failing
($CTAGS names the ctags program; default: ctags on the PATH).
"""
import math
import os
import re
import subprocess
import sys

FOLDERS = ("frontend", "ir", "passes", "codegen", "runtime", "driver", "support")
SOURCE_EXTS = (".c", ".h", ".def", ".l", ".y")
MAX_FILE_LINES = 800
MAX_FUNCTION_LINES = 60
MAX_P90_LINES = 30

# (folders whose files are checked, folder included, allowed(basename) -> bool, rule text)
LAYER_RULES = (
    (("passes", "codegen"), "runtime",
     lambda name: name in ("dlrt_abi.h", "dlrt_cuda_program.h"),
     "passes/ and codegen/ include no runtime header but dlrt_abi.h and dlrt_cuda_program.h"),
    (("driver",), "codegen", lambda name: not name.endswith("_internal.h"),
     "driver/ includes no codegen *_internal.h"),
    (("frontend",), "passes", lambda name: False, "the frontend includes no passes/ header"),
)

# the prefixes an exported name of each folder starts with (driver/ also defines main)
PREFIXES = {
    "frontend": ("lex_", "parse_", "ast_", "lower_"),
    "ir": ("ir_",),
    "passes": ("pass_",),
    "codegen": ("cg_",),
    "runtime": ("dlrt_",),
    "driver": ("dlc_", "main"),
    "support": ("arena_", "diag_", "sb_", "dlc_", "checked_"),
}

INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
MACRO_NAME_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")
CTAGS = os.environ.get("CTAGS", "ctags")


def source_files(root):
    """Every hand-written source under the checked folders, as sorted root-relative paths."""
    out = []
    for folder in FOLDERS:
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, folder)):
            dirnames.sort()
            for name in filenames:
                if name.endswith(SOURCE_EXTS):
                    out.append(os.path.relpath(os.path.join(dirpath, name), root))
    return sorted(out)


def read_lines(root, rel):
    with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
        return f.read().splitlines()


def run_ctags(root, files, ignored):
    """[(name, file, line, end, pattern, kind, exported)] for the function and variable
    definitions in files."""
    cmd = [CTAGS, "--fields=+neKf", "--c-kinds=fv", "--sort=no", "-o", "-", "-L", "-"]
    if ignored:
        cmd.insert(1, "-I" + ",".join(name + "+" for name in sorted(ignored)))
    try:
        res = subprocess.run(cmd, cwd=root, input="\n".join(files) + "\n",
                             capture_output=True, text=True, check=False)
    except FileNotFoundError:
        res = None
    if res is None or res.returncode != 0:
        print("arch_gate: error: ctags failed: " + (res.stderr.strip() if res else "not found"),
              file=sys.stderr)
        sys.exit(2)
    tags = []
    for row in res.stdout.splitlines():
        if row.startswith("!_TAG_"):
            continue
        cols = row.split("\t")
        fields = dict(c.split(":", 1) for c in cols[3:] if ":" in c)
        if "line" not in fields:
            continue
        line = int(fields["line"])
        end = int(fields.get("end", line))
        kind = cols[3] if len(cols) > 3 and ":" not in cols[3] else ""
        tags.append((cols[0], cols[1], line, end, cols[2], kind, "file" not in fields))
    return tags


def check_ctags():
    try:
        res = subprocess.run([CTAGS, "--version"], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        res = None
    if res is None or "Universal Ctags" not in res.stdout:
        print("arch_gate: error: Universal Ctags is needed (tools/setup.sh installs "
              "universal-ctags)", file=sys.stderr)
        sys.exit(2)


def is_macro_invocation(tag):
    name, pattern = tag[0], tag[4]
    return bool(MACRO_NAME_RE.match(name)) and pattern.startswith("/^" + name + "(")


def function_lengths(root, files):
    """([(length, file, line, name)], macro names skipped, [(file, line, name)] exported
    definitions) over the .c files."""
    c_files = [f for f in files if f.endswith(".c")]
    tags = run_ctags(root, c_files, ())
    macros = {t[0] for t in tags if is_macro_invocation(t)}
    if macros:
        tags = run_ctags(root, c_files, macros)
    funcs = [(t[3] - t[2] + 1, t[1], t[2], t[0]) for t in tags
             if t[0] not in macros and t[5] == "function"]
    exported = [(t[1], t[2], t[0]) for t in tags if t[0] not in macros and t[6]]
    return funcs, macros, exported


def prefix_violations(exported):
    out = []
    for f, line, name in sorted(exported):
        wanted = PREFIXES.get(folder_of(f) or "", ())
        if wanted and not name.startswith(wanted):
            out.append(f"{f}:{line}: exported {name} lacks its folder's prefix "
                       f"({' '.join(p for p in wanted if p.endswith('_'))})")
    return out


def nearest_rank(sorted_values, q):
    if not sorted_values:
        return 0
    return sorted_values[max(0, math.ceil(q * len(sorted_values)) - 1)]


def includes(root, rel):
    """[(line number, text, root-relative path it names)] for the file's quoted includes."""
    out = []
    for i, text in enumerate(read_lines(root, rel), 1):
        m = INCLUDE_RE.match(text)
        if not m:
            continue
        target = os.path.normpath(os.path.join(os.path.dirname(rel), m.group(1)))
        if not os.path.exists(os.path.join(root, target)) and \
                os.path.exists(os.path.join(root, m.group(1))):
            target = os.path.normpath(m.group(1))  # named from the root (include path)
        out.append((i, m.group(1), target))
    return out


def folder_of(path):
    top = path.split(os.sep, 1)[0]
    return top if top in FOLDERS and os.sep in path else None


def layer_violations(rel, incs):
    out = []
    src = folder_of(rel)
    for line, text, target in incs:
        dst = folder_of(target)
        for sources, folder, allowed, rule in LAYER_RULES:
            if src in sources and dst == folder and not allowed(os.path.basename(target)):
                out.append(f"{rel}:{line}: includes \"{text}\": {rule}")
    return out


def folder_cycles(edges):
    """Strongly connected components of more than one folder (Tarjan), each sorted."""
    index, low, stack, on_stack, comps = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return comps


def cycle_violations(edge_sites):
    edges = {}
    for (a, b) in edge_sites:
        edges.setdefault(a, set()).add(b)
    out = []
    for comp in folder_cycles(edges):
        sites = [f"{a} -> {b} ({edge_sites[(a, b)]})" for (a, b) in sorted(edge_sites)
                 if a in comp and b in comp]
        out.append("include cycle between folders " + ", ".join(comp) + ": " + "; ".join(sites))
    return out


def main(argv):
    root = os.path.abspath(argv[1] if len(argv) > 1 else
                           os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    check_ctags()
    files = source_files(root)
    problems = []
    edge_sites = {}
    for rel in files:
        n = len(read_lines(root, rel))
        if n > MAX_FILE_LINES:
            problems.append(f"{rel}: {n} lines (limit {MAX_FILE_LINES})")
        incs = includes(root, rel)
        problems += layer_violations(rel, incs)
        for line, _, target in incs:
            a, b = folder_of(rel), folder_of(target)
            if a and b and a != b:
                edge_sites.setdefault((a, b), f"{rel}:{line}")
    problems += cycle_violations(edge_sites)
    funcs, macros, exported = function_lengths(root, files)
    problems += prefix_violations(exported)
    for length, f, line, name in sorted(funcs, key=lambda t: (t[1], t[2])):
        if length > MAX_FUNCTION_LINES:
            problems.append(f"{f}:{line}: function {name} is {length} lines "
                            f"(limit {MAX_FUNCTION_LINES})")
    lengths = sorted(t[0] for t in funcs)
    median, p90 = nearest_rank(lengths, 0.5), nearest_rank(lengths, 0.9)
    if p90 > MAX_P90_LINES:
        problems.append(f"function-length p90 is {p90} lines (limit {MAX_P90_LINES})")
    n_c = sum(f.endswith(".c") for f in files)
    print(f"arch_gate: {len(files)} files, {len(funcs)} functions in {n_c} .c files "
          f"(macro invocations not counted: {', '.join(sorted(macros)) or 'none'})")
    print(f"arch_gate: function lines: median {median}, p90 {p90}, longest "
          f"{lengths[-1] if lengths else 0} (limits: p90 {MAX_P90_LINES}, function "
          f"{MAX_FUNCTION_LINES}, file {MAX_FILE_LINES})")
    for p in problems:
        print("arch_gate: FAIL " + p)
    if problems:
        print(f"arch_gate: {len(problems)} violation{'s' if len(problems) != 1 else ''}")
        return 1
    print("arch_gate: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
