"""Edit-to-reload latency of ``site-builder serve``: from a file saved to the reload message sent.

    python benchmarks/reload_latency.py                        # default site and a 1,000-app site
    python benchmarks/reload_latency.py --apps 1000 --edits 30 --watchers events,scan,livereload

For each site and each watcher, the script starts ``site-builder serve --port 0`` in a subprocess,
connects to its livereload websocket as the injected client does (hello, info), then repeatedly
saves a file and times until the ``reload`` message arrives: alternately a policy section and (on
sites with apps) one app's ``app.yaml``, each edit changing what the page shows. The clock starts
when the write has returned and stops when the message is read, on the same machine over the
loopback interface, so it is "file saved → reload message sent" plus well under a millisecond.

Sites: a copy of this repository's default content, and a generated site with ``--apps`` apps,
made by ``benchmarks/corpus.py`` (realistic manifests, with ``--releases`` frozen releases), or,
if that module is missing, by copying the sample apps under new names.

Watchers (``serve --watcher``): ``events`` (operating-system notifications via watchdog, the
default), ``scan`` (stat every file every 100 ms) and ``livereload`` (the livereload package's own
watcher, polled every 800 ms as ``livereload.Server`` does). Target: median under 300 ms at 1,000
apps. Results: a Markdown table on stdout and ``benchmarks/work/reload_latency.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WORK = HERE / "work" / "reload"
for folder in (str(REPO), str(HERE)):
    if folder not in sys.path:
        sys.path.insert(0, folder)

from tornado.httpclient import HTTPRequest  # noqa: E402
from tornado.websocket import websocket_connect  # noqa: E402

PROTOCOL = "http://livereload.com/protocols/official-7"
STARTUP_SECONDS = 900


@dataclass
class Result:
    site: str
    watcher: str
    edit: str
    samples_ms: list[float] = field(default_factory=list)
    rebuild_ms: list[float] = field(default_factory=list)  # as the server reports each rebuild, all edit kinds

    def summary(self) -> dict[str, float]:
        ordered = sorted(self.samples_ms)
        return {
            "median": statistics.median(ordered),
            "p90": ordered[max(0, round(0.9 * len(ordered)) - 1)],
            "min": ordered[0],
            "max": ordered[-1],
            "rebuild_median": statistics.median(self.rebuild_ms) if self.rebuild_ms else float("nan"),
        }


# ------------------------------------------------------------------------------------ the sites


def default_site() -> Path:
    target = WORK / "default"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(REPO / "content", target / "content")
    return target


def generated_site(apps: int, releases: int) -> Path:
    target = WORK / f"apps-{apps}-r{releases}"
    shutil.rmtree(target, ignore_errors=True)
    try:
        from corpus import make_corpus, write_project  # benchmarks/corpus.py: realistic manifests and releases
    except ImportError:
        return _copied_site(target, apps)
    write_project(target, make_corpus(apps, releases))
    return target


def _copied_site(target: Path, apps: int) -> Path:
    """Without corpus.py: the sample apps copied under new slugs and names until there are ``apps``."""
    shutil.copytree(REPO / "content", target / "content")
    samples = sorted(p for p in (target / "content" / "apps").iterdir() if p.is_dir())
    for index in range(apps - len(samples)):
        sample = samples[index % len(samples)]
        copy = sample.parent / f"{sample.name}-{index:05d}"
        shutil.copytree(sample, copy)
        app_yaml = copy / "app.yaml"
        app_yaml.write_text(app_yaml.read_text(encoding="utf-8").replace("name: ", f"name: No. {index:05d} ", 1), encoding="utf-8")
    return target


def edit_targets(project: Path) -> dict[str, Path]:
    targets = {"policy": sorted((project / "content" / "policy").glob("*.md"))[-1]}
    apps = sorted((project / "content" / "apps").glob("*/app.yaml"))
    if apps:
        targets["app"] = apps[len(apps) // 2]
    return targets


def make_edit(kind: str, file: Path, number: int) -> None:
    """Change what a page shows: a sentence at the end of a section, or an app's summary."""
    text = file.read_text(encoding="utf-8")
    if kind == "policy":
        text = re.sub(r"\n*(Benchmark edit \d+\.\n)?$", f"\n\nBenchmark edit {number}.\n", text, count=1)
    else:
        text, count = re.subn(r"^summary:( >-?\n  | )(\(edit \d+\) )?", lambda m: f"summary:{m.group(1)}(edit {number}) ", text, count=1, flags=re.MULTILINE)
        assert count == 1, f"no summary in {file}"
    file.write_text(text, encoding="utf-8")


# ------------------------------------------------------------------------------------ one server


class Serve:
    def __init__(self, project: Path, watcher: str) -> None:
        command = [sys.executable, "-m", "site_builder", "serve", "--project", str(project), "--port", "0", "--watcher", watcher]
        env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        self.lines: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()
        deadline = time.monotonic() + STARTUP_SECONDS
        while not (match := re.search(r"Serving .* at (http://\S+)", "".join(self.lines))):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("serve did not start:\n" + "".join(self.lines))
            time.sleep(0.1)
        self.url = match.group(1)
        self.port = int(re.search(r":(\d+)/", self.url).group(1))  # type: ignore[union-attr]

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    def rebuild_times(self) -> list[float]:
        return [float(m) for m in re.findall(r"^Rebuilt in (\d+) ms", "".join(self.lines), re.MULTILINE)]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


async def measure(serve: Serve, targets: dict[str, Path], edits: int, warmup: int, pause: float) -> dict[str, list[float]]:
    socket = await websocket_connect(HTTPRequest(f"ws://127.0.0.1:{serve.port}/livereload", headers={"Origin": f"http://127.0.0.1:{serve.port}"}))
    await socket.write_message(json.dumps({"command": "hello", "protocols": [PROTOCOL]}))
    await socket.read_message()
    await socket.write_message(json.dumps({"command": "info", "url": serve.url, "plugins": {}}))
    await asyncio.sleep(1.0)
    samples: dict[str, list[float]] = {kind: [] for kind in targets}
    kinds = list(targets)
    for number in range(warmup + edits * len(kinds)):
        kind = kinds[number % len(kinds)]
        make_edit(kind, targets[kind], number)
        saved = time.perf_counter()
        while True:
            message = json.loads(await asyncio.wait_for(socket.read_message(), 120))
            if message.get("command") == "reload":
                break
        elapsed = (time.perf_counter() - saved) * 1000
        if number >= warmup:
            samples[kind].append(elapsed)
        await asyncio.sleep(pause)  # let the server settle: one edit at a time
    socket.close()
    return samples


def run_one(site: str, project: Path, watcher: str, edits: int, warmup: int, pause: float) -> list[Result]:
    serve = Serve(project, watcher)
    try:
        before = len(serve.rebuild_times())
        samples = asyncio.run(measure(serve, edit_targets(project), edits, warmup, pause))
        rebuilds = serve.rebuild_times()[before + warmup:]
    finally:
        serve.stop()
    return [Result(site, watcher, kind, samples[kind], rebuilds) for kind in samples]  # rebuilds: of all kinds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--apps", type=int, default=1000, help="apps in the generated site (default 1000; 0: default site only)")
    parser.add_argument("--releases", type=int, default=0, help="frozen releases in the generated site (default 0)")
    parser.add_argument("--edits", type=int, default=20, help="timed edits per kind (policy, app) and watcher (default 20)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed edits first (default 2)")
    parser.add_argument("--pause", type=float, default=0.3, help="seconds between edits (default 0.3)")
    parser.add_argument("--watchers", default="events,livereload", help="comma-separated: events, scan, livereload (default events,livereload)")
    parser.add_argument("--json", type=Path, default=WORK.parent / "reload_latency.json")
    args = parser.parse_args(argv)
    sites = {"default": default_site()}
    if args.apps:
        sites[f"{args.apps} apps"] = generated_site(args.apps, args.releases)
    results: list[Result] = []
    for site, project in sites.items():
        for watcher in args.watchers.split(","):
            print(f"measuring {site} with the {watcher} watcher ...", file=sys.stderr, flush=True)
            results += run_one(site, project, watcher, args.edits, args.warmup, args.pause)
    print(f"\nEdit-to-reload latency, ms (file saved → reload message), {args.edits} edits each; {platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs\n")
    print(f"Load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())} (other work on the machine slows every figure)\n")
    print("| site | watcher | edit | median | p90 | min | max | server's rebuild median |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    for result in results:
        s = result.summary()
        print(f"| {result.site} | {result.watcher} | {result.edit} | {s['median']:.0f} | {s['p90']:.0f} | {s['min']:.0f} | {s['max']:.0f} | {s['rebuild_median']:.0f} |")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "results": [{**asdict(r), **r.summary()} for r in results]}, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
