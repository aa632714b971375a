"""Serve's rebuild after an edit, one code tree against another, alternated.

    python benchmarks/serve_ab.py --old /path/to/old/src [--new src] [--stories 10000]
        [--edit title|newest|middle|template] [--rounds 4] [--edits 7] [--beside-thread]

The machine's speed moves by a quarter within an hour, more than most changes
to measure; runs of both trees, alternated in the same minutes, see the same
machine. Each tree gets its own copy of one generated site (build.py's
generator), built once with that tree, so neither run pays for the other's
cache. A run is one process with one long-lived Builder (as `commsite serve`
keeps): a build, then `--edits` + 1 edits, each rebuilt with the watcher's
changed file; the first rebuild (which fills the memos) is left out.

Edits: `title` retitles the newest story (its page, its neighbour's, the lists,
tag and member pages showing its card, the feeds, the outbox), `newest` changes
its body, `middle` changes the body of a story a third of the way in,
`template` saves the site's own copy of the theme's story.html (a Jinja comment
changed: every story page is rendered again, none rewritten).

`--beside-thread`: a second thread runs in the process, as serve's server and
watcher threads do (the build then keeps the cycle collector on, and renders a
big re-render in workers from the fork server instead of forking).

To get an old tree: `git worktree add /tmp/old COMMIT`, then `--old /tmp/old/src`.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

_RUN = """
import json, re, statistics, sys, threading, time
from pathlib import Path
import commsite.themes
from commsite.build.run import Builder, BuildOptions
root, edits, mode = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
if sys.argv[4] == "thread":
    threading.Thread(target=threading.Event().wait, daemon=True).start()
stories = sorted((root / "content" / "stories").glob("*.md"))
story = stories[len(stories) // 3] if mode == "middle" else stories[-1]
if mode == "template":
    story = root / "theme" / "templates" / "story.html"
    story.parent.mkdir(parents=True, exist_ok=True)
    default = Path(commsite.themes.__file__).parent / "default" / "templates" / "story.html"
    story.write_text(default.read_text(encoding="utf-8"), encoding="utf-8")
original = story.read_text(encoding="utf-8")
wall, cpu = [], []
try:
    with Builder(BuildOptions(root=root, owned_output=True)) as builder:
        assert builder.build().ok
        for n in range(edits + 1):
            text = original
            if mode == "title":
                text = re.sub(r"^title: ", f"title: Saved {n} - ", text, count=1, flags=re.M)
            saved = f"\\nSaved again, number {n}.\\n"
            if mode == "template":
                saved = f"{{# saved {n} #}}\\n"
            story.write_text(text + saved, encoding="utf-8")
            w, c = time.perf_counter(), time.process_time()
            result = builder.build([story], trusted=True)
            wall.append(time.perf_counter() - w)
            cpu.append(time.process_time() - c)
            assert result.ok, result.diagnostics
finally:
    story.write_text(original, encoding="utf-8")
print(json.dumps({"wall": statistics.median(wall[1:]), "cpu": statistics.median(cpu[1:]),
                  "rendered": len(result.rendered)}))
"""


def _generator() -> object:
    spec = importlib.util.spec_from_file_location("bench_build", HERE / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_build"] = module
    spec.loader.exec_module(module)
    return module


def _env(src: Path) -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(src))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--old", type=Path, required=True, help="the old tree's src/ folder")
    parser.add_argument("--new", type=Path, default=HERE.parent / "src", help="default: ./src")
    parser.add_argument("--stories", type=int, default=10_000)
    parser.add_argument(
        "--edit", choices=["title", "newest", "middle", "template"], default="title"
    )
    parser.add_argument("--beside-thread", action="store_true", help="as serve's threads are")
    parser.add_argument("--rounds", type=int, default=4, help="runs of each tree")
    parser.add_argument("--edits", type=int, default=7, help="timed edits per run")
    args = parser.parse_args()
    trees = {"old": args.old.resolve(), "new": args.new.resolve()}
    for name, src in trees.items():
        if not (src / "commsite" / "__init__.py").is_file():
            parser.error(f"--{name} {src}: no commsite package there")
    work = Path(tempfile.mkdtemp(prefix="commsite-serve-ab-"))
    try:
        bench = _generator()
        generated = bench.generate_site(work / "site", args.stories)  # type: ignore[attr-defined]
        sites = {}
        for name, src in trees.items():
            sites[name] = work / name
            shutil.copytree(generated.root, sites[name])
            print(f"building the {name} tree's copy once ...", flush=True)
            subprocess.run(
                [sys.executable, "-m", "commsite", "build", str(sites[name])],
                env=_env(src),
                check=True,
                capture_output=True,
            )
        found: dict[str, dict[str, list[float]]] = {n: {"wall": [], "cpu": []} for n in trees}
        mode = [args.edit, "thread" if args.beside_thread else "alone"]
        for r in range(args.rounds):
            for name in ("old", "new") if r % 2 == 0 else ("new", "old"):
                proc = subprocess.run(
                    [sys.executable, "-c", _RUN, str(sites[name]), str(args.edits), *mode],
                    env=_env(trees[name]),
                    capture_output=True,
                    text=True,
                )
                if proc.returncode != 0:
                    raise SystemExit(f"the {name} tree's run failed:\n{proc.stderr}")
                run = json.loads(proc.stdout.strip().splitlines()[-1])
                for key in ("wall", "cpu"):
                    found[name][key].append(run[key])
                print(
                    f"{name}: {run['wall'] * 1000:.0f} ms (CPU {run['cpu'] * 1000:.0f} ms), "
                    f"rendered {run['rendered']}",
                    flush=True,
                )
        for name in trees:
            wall = statistics.median(found[name]["wall"]) * 1000
            cpu = statistics.median(found[name]["cpu"]) * 1000
            print(f"{args.edit}, {name} tree: median {wall:.0f} ms (CPU {cpu:.0f} ms)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
