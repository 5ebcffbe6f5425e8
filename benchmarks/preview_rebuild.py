"""Preview rebuild after one edit, in process, as ``site-builder serve`` runs it.

    python benchmarks/preview_rebuild.py benchmarks/work/n1000-r3/site-builder --edits 15

Copies the project's ``content/`` to a temporary folder, builds it twice with serve's caches
(``PreviewBuilder``'s ``BuildCache``: a watched ``LoadMemo`` and a ``RenderCache`` that keeps
fragments), then times ``render_project`` after each edit, telling the load memo which file
changed as serve's watcher does: a policy section gains a sentence, an app's summary changes,
or nothing changes. Prints the median and the spread of each kind; the edit-to-reload time of
the real server (debounce, writing, the websocket) is ``benchmarks/reload_latency.py``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from site_builder.cache.incremental import BuildCache, LoadMemo, RenderCache  # noqa: E402
from site_builder.pipeline import BuildOptions, render_project  # noqa: E402


def edit_policy(file: Path, number: int) -> None:
    file.write_text(file.read_text(encoding="utf-8").rstrip("\n") + f" Edit {number}.\n", encoding="utf-8")


def edit_app(file: Path, number: int) -> None:
    text = file.read_text(encoding="utf-8")
    file.write_text(text.replace('summary: "', f'summary: "Edit {number}. ', 1), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("project", type=Path, help="a project folder (with content/)")
    parser.add_argument("--edits", type=int, default=15, help="timed edits per kind (default 15)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary).resolve() / "project"
        shutil.copytree(args.project / "content", root / "content")
        options = BuildOptions(build_date=date.today(), draft=True)
        cache = BuildCache(load=LoadMemo(watched=True), render=RenderCache(keep_fragments=True))
        started = time.perf_counter()
        first = render_project(root, options, cache)
        print(f"first build: {time.perf_counter() - started:.2f} s, {first.page_count} pages, {len(first.problems.errors)} errors")
        section = sorted((root / "content/policy").glob("*.md"))[len(list((root / "content/policy").glob("*.md"))) // 2]
        apps = sorted(path for path in (root / "content/apps").iterdir() if path.is_dir())
        kinds = {"nothing": (None, None), "policy section": (section, edit_policy)}
        if apps:
            kinds["one app"] = (apps[len(apps) // 2] / "app.yaml", edit_app)
        for kind, (file, edit) in kinds.items():
            samples, rendered = [], []
            for number in range(args.edits + 1):
                if file is not None and edit is not None:
                    edit(file, number)
                cache.reset_stats()
                cache.trust(set() if file is None else {str(file)})
                started = time.perf_counter()
                result = render_project(root, options, cache)
                elapsed = (time.perf_counter() - started) * 1000
                if result.site is None:
                    print(f"{kind}: the build failed: {[str(p) for p in result.problems.errors][:3]}", file=sys.stderr)
                    return 1
                if number:  # the first edit of each kind warms what it touches
                    samples.append(elapsed)
                    rendered.append(len(cache.render.stats.rendered))
            print(f"{kind}: median {statistics.median(samples):.0f} ms (min {min(samples):.0f}, max {max(samples):.0f}; {args.edits} edits; pages rendered: {max(rendered)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
