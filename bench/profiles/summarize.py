"""Summarise a py-spy raw (collapsed) profile: self and cumulative time per function, and
the heaviest stacks cut to our code's frames plus the leaf (the files in this folder).

    py-spy record -r 100 -o x.raw --format raw -- .venv/bin/python bench/bus.py ...
    .venv/bin/python bench/profiles/summarize.py x.raw --only 'EventConsumer' \
        --out bench/profiles/x.txt --title "what was run"

``--only`` / ``--exclude``: regular expressions a stack must (not) match, e.g. one thread's
entry point. With ``--subprocesses`` the leading ``process ...`` frames are dropped.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter

OURS = ("shared/", "services/", "evenemang/", "bench/")
BENCHES = re.compile(r"(bus|notify|load|series|booking|catchup|feeds|login|run)\.py")
LINE = re.compile(r"\(([^:()]+):\d+\)$")


def ours(frame: str) -> bool:
    match = LINE.search(frame) or re.search(r"\(([^()]+)\)$", frame)
    path = match.group(1) if match else ""
    return path.startswith(OURS) or bool(BENCHES.fullmatch(path))


def key(frame: str) -> str:
    return re.sub(r":\d+\)$", ")", frame)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw")
    parser.add_argument("--only")
    parser.add_argument("--exclude")
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument("--keep", type=int, default=60, help="stacks written to --out")
    parser.add_argument("--out")
    parser.add_argument("--title", default="")
    args = parser.parse_args()
    own, cumulative, stacks, packages = Counter(), Counter(), Counter(), Counter()
    total = 0
    with open(args.raw) as lines:
        for line in lines:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            if not stack or (args.only and not re.search(args.only, stack)):
                continue
            if args.exclude and re.search(args.exclude, stack):
                continue
            n = int(count)
            frames = [f for f in stack.split(";") if not f.startswith("process ")] or ["?"]
            total += n
            own[key(frames[-1])] += n
            for name in {key(f) for f in frames}:
                cumulative[name] += n
            stacks[";".join([key(f) for f in frames[:-1] if ours(f)] + [key(frames[-1])])] += n
            leaf = re.search(r"\(([^:/()]+)", frames[-1])
            packages[leaf.group(1) if leaf else "?"] += n
    print(f"samples {total}")
    print("-- self")
    for name, n in own.most_common(args.top):
        print(f"{100 * n / total:5.1f}%  {name}")
    print("-- cumulative (our code)")
    for name, n in [(k, n) for k, n in cumulative.most_common() if ours(k)][: 2 * args.top]:
        print(f"{100 * n / total:5.1f}%  {name}")
    print("-- self by package of the leaf")
    for name, n in packages.most_common(10):
        print(f"{100 * n / total:5.1f}%  {name}")
    if args.out:
        with open(args.out, "w") as out:
            out.write(f"# {args.title}\n# py-spy collapsed stacks: our code's frames + the leaf,")
            out.write(f" the {args.keep} heaviest of {total} samples\n")
            for stack, n in stacks.most_common(args.keep):
                out.write(f"{stack} {n}\n")


if __name__ == "__main__":
    main()
