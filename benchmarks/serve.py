"""Save-to-reload latency of `commsite serve`, measured in a real browser.

Generates a synthetic site (benchmarks/build.py's generator), starts the real
`commsite serve` on loopback, opens a story in Debian's Chromium (Playwright),
then repeatedly edits that story's file and times how long until the open page
shows the new text by itself: watcher + debounce + incremental build + reload
event + page load. Prints the median, min and max of the runs.

The time is read from the page itself: the reloaded document's first contentful
paint (Chromium's Paint Timing, on the same clock as the save) minus the moment
of the save, split into save -> the reload starts (serve's part) and reload ->
paint (the browser's). Playwright's wait for the text only says when to read
it: its polling backs off to 500 ms between checks, which added up to 0.4 s to
every run when the wait itself was the measure (sessions 1 to 3).

    python benchmarks/serve.py --stories 5000 --runs 9
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build import generate_site

BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


_REBUILT = re.compile(r": rendered (\d+), wrote \d+ in ([0-9.]+) s")


# The document's time origin (ms since the epoch) and when it first painted content
# (ms after that; DOMContentLoaded where Paint Timing is missing).
_PAINTED = """() => {
  const paint = performance.getEntriesByName("first-contentful-paint")[0];
  const nav = performance.getEntriesByType("navigation")[0];
  return [performance.timeOrigin, paint ? paint.startTime : nav.domContentLoadedEventEnd];
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _save(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stories", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="commsite-serve-bench-") as tmp:
        root = Path(tmp) / "site"
        t0 = time.perf_counter()
        generate_site(root, args.stories)
        print(f"generated {args.stories} stories in {time.perf_counter() - t0:.1f} s", flush=True)
        stories = sorted((root / "content" / "stories").glob("*.md"))
        story = stories[len(stories) // 2]
        slug = story.stem[11:] if story.stem[:4].isdigit() else story.stem
        port = _free_port()
        base = f"http://127.0.0.1:{port}/"
        t0 = time.perf_counter()
        log = Path(tmp) / "serve.log"
        log_file = log.open("wb")
        server = subprocess.Popen(
            [sys.executable, "-m", "commsite", "serve", str(root), "--port", str(port)],
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        try:
            while True:
                try:
                    if requests.get(base, timeout=5).status_code == 200:
                        break
                except requests.RequestException:
                    time.sleep(0.2)
                if server.poll() is not None:
                    tail = log.read_text(encoding="utf-8", errors="replace")[-2000:]
                    print(f"commsite serve exited ({server.returncode}):\n{tail}", file=sys.stderr)
                    return 1
            print(f"first build + serve ready in {time.perf_counter() - t0:.1f} s", flush=True)
            original = story.read_text(encoding="utf-8")
            latencies: list[float] = []
            to_reload: list[float] = []  # save -> the reloaded document's navigation starts
            to_paint: list[float] = []  # navigation start -> first contentful paint
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=args.chromium, args=BROWSER_ARGS)
                page = browser.new_page()
                page.goto(f"{base}stories/{slug}/")
                for run in range(args.runs):
                    marker = f"bench-marker-{run}-{time.time_ns()}"
                    page.wait_for_load_state("load")
                    time.sleep(0.5)  # a quiet moment between saves
                    saved = time.time() * 1000  # ms since the epoch, as performance.timeOrigin
                    _save(story, original.replace("\n---\n", f"\n---\n{marker}\n\n", 1))
                    page.wait_for_selector(f"text={marker}", timeout=30000)
                    origin, painted = page.evaluate(_PAINTED)
                    if origin < saved:
                        raise SystemExit("the page showed the edit without reloading")
                    to_reload.append((origin - saved) / 1000)
                    to_paint.append(painted / 1000)
                    latencies.append(to_reload[-1] + to_paint[-1])
                    print(
                        f"  run {run + 1}: {latencies[-1] * 1000:.0f} ms "
                        f"(reload starts {to_reload[-1] * 1000:.0f}, "
                        f"paints {to_paint[-1] * 1000:.0f} ms later)",
                        flush=True,
                    )
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=10)
            log_file.close()
            # What serve itself says each rebuild took ("... rendered 3, wrote 3 in 0.21 s").
            found = _REBUILT.findall(log.read_text(encoding="utf-8"))[1:]  # (not the first build)
            rebuilds = [float(seconds) for _, seconds in found]
            rendered = sorted({int(n) for n, _ in found})
    print(
        f"save → reloaded page, {args.stories} stories, {args.runs} runs: "
        f"median {statistics.median(latencies) * 1000:.0f} ms "
        f"(min {min(latencies) * 1000:.0f}, max {max(latencies) * 1000:.0f})"
    )
    print(
        f"  save -> reload starts: median {statistics.median(to_reload) * 1000:.0f} ms; "
        f"reload -> first paint: median {statistics.median(to_paint) * 1000:.0f} ms"
    )
    if rebuilds:
        median = statistics.median(rebuilds) * 1000
        print(
            f"  of which the rebuild (serve's own log): median {median:.0f} ms"
            f" (pages rendered: {', '.join(map(str, rendered))})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
