"""The wheel carries the default theme: build it, install it in a fresh venv, `init` a project and `build` it.

Offline by design (tests run without network, and CI must not depend on it):
- the wheel is built with ``python -m build --wheel --no-isolation`` from a copy of the sources in
  tmp (setuptools builds in-tree, and tests never write into the checkout), using the test
  environment's setuptools (the ``test`` extra pins one new enough for the build-system table);
- the fresh venv sees the runtime dependencies through a .pth line naming the test environment's
  site-packages folders (the .pth files inside them, such as an editable install's finder, do not run),
  and the wheel is installed with ``--no-index``, so pip itself checks that every Requires-Dist is met;
- the commands run as a user runs them: the venv's ``site-builder`` script, outside the checkout.
"""

from __future__ import annotations

import email.parser
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from site_builder import __version__

pytestmark = pytest.mark.slow

SOURCES = ["pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "site_builder", "templates", "static"]


def run(argv: list[str | Path], *, cwd: Path, env: dict[str, str] | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(map(str, argv))} exited {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def wheel(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "src"
    source.mkdir()
    for name in SOURCES + [p.name for p in repo_root.glob("LICENSE*")]:
        item = repo_root / name
        if item.is_dir():
            shutil.copytree(item, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(item, source / name)
    run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", tmp / "dist", source], cwd=tmp)
    wheels = list((tmp / "dist").glob("*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def sources_of(wheel: Path) -> Path:
    """The snapshot of the checkout the wheel was built from (the checkout may change meanwhile)."""
    return wheel.parent.parent / "src"


def test_wheel_carries_theme_schemas_and_starter(wheel: Path) -> None:
    source = sources_of(wheel)
    assert wheel.name == f"site_builder-{__version__}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for template in ("base.html", "index.html", "404.html", "_macros.html"):
            assert f"site_builder/theme/templates/{template}" in names
            assert archive.read(f"site_builder/theme/templates/{template}") == (source / "templates" / template).read_bytes()
        assert archive.read("site_builder/theme/static/css/site.css") == (source / "static/css/site.css").read_bytes()
        for schema in ("site", "section", "releases", "app"):
            assert f"site_builder/schemas/{schema}.schema.json" in names
        assert "site_builder/starter/content/site.yaml" in names
        assert not [n for n in names if n.startswith(("content/", "tests/", "templates/", "static/"))]
        # site_builder/content/ is the loader's package: Python modules only, never the default site's files
        assert not [n for n in names if n.startswith("site_builder/content/") and not n.endswith(".py")]
        metadata = email.parser.Parser().parsestr(archive.read(f"site_builder-{__version__}.dist-info/METADATA").decode("utf-8"))
        entry_points = archive.read(f"site_builder-{__version__}.dist-info/entry_points.txt").decode("utf-8")
    requires = {r.split(";")[0].split(">")[0].split("=")[0].split("<")[0].strip().lower() for r in metadata.get_all("Requires-Dist") or []}
    assert {"jinja2", "markdown", "pyyaml", "livereload", "beautifulsoup4", "jsonschema", "nh3"} <= requires
    assert metadata["Requires-Python"] == ">=3.11"
    assert "site-builder = site_builder.cli:run" in entry_points


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtual environment with only the wheel installed; dependencies come from the test environment."""
    tmp = tmp_path_factory.mktemp("venv")
    home = tmp / "venv"
    # no pip inside (ensurepip takes most of this test's time): the test environment's pip installs into it
    run([sys.executable, "-m", "venv", "--without-pip", home], cwd=tmp)
    python = home / "bin" / "python"
    purelib = run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=tmp).stdout.strip()
    # every site-packages the test environment imports from (a venv's own, and the base's with --system-site-packages)
    ours = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"], *(p for p in sys.path if p.endswith(("site-packages", "dist-packages")))])
    (Path(purelib) / "_test_environment_dependencies.pth").write_text("".join(f"{path}\n" for path in ours), "utf-8")
    pip = [sys.executable, "-m", "pip", "--python", python, "install", "--no-index", "--no-cache-dir", "--disable-pip-version-check", "--quiet"]
    # the wheel itself, even where the test environment has an (editable) site-builder of the same version
    run([*pip, "--no-deps", "--force-reinstall", wheel], cwd=tmp, env=user_env(home))
    # then let pip resolve its Requires-Dist offline: fails if the wheel needs something not installed
    run([*pip, wheel], cwd=tmp, env=user_env(home))
    return home


def user_env(home: Path) -> dict[str, str]:
    """The environment of someone who activated the venv: its bin/ first, nothing pointing at the checkout."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")}
    env["PATH"] = f"{home / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(home)
    env["PYTHONNOUSERSITE"] = "1"
    env["SOURCE_DATE_EPOCH"] = "1751328000"
    return env


def test_installed_package_is_the_wheel_not_the_checkout(venv: Path, tmp_path: Path) -> None:
    done = run([venv / "bin/python", "-c", "import site_builder, site_builder.render.theme as t; print(site_builder.__file__); print(t.default_theme_dir())"], cwd=tmp_path, env=user_env(venv))
    module, theme = done.stdout.splitlines()
    assert Path(module).resolve().is_relative_to(venv.resolve()), module
    assert Path(theme).resolve() == (Path(module).parent / "theme").resolve()
    assert run([venv / "bin/site-builder", "--version"], cwd=tmp_path, env=user_env(venv)).stdout == f"site-builder {__version__}\n"
    assert run([venv / "bin/python", "-m", "site_builder", "--version"], cwd=tmp_path, env=user_env(venv)).stdout == f"site-builder {__version__}\n"


def test_init_then_build_from_the_wheel(wheel: Path, venv: Path, tmp_path: Path) -> None:
    env = user_env(venv)
    run(["site-builder", "init", "newsite"], cwd=tmp_path, env=env)
    site = tmp_path / "newsite"
    assert (site / "content/site.yaml").is_file()
    done = run(["site-builder", "build"], cwd=site, env=env)
    assert done.stdout.startswith("Wrote ") and "to build/" in done.stdout
    assert "Traceback" not in done.stderr
    out = site / "build"
    index = (out / "index.html").read_text("utf-8")
    assert "<h1" in index and "Security Policy for Newsite Cloud Apps" in index
    assert '<link rel="stylesheet" href="static/css/site.css">' in index
    # the default theme's CSS, byte for byte
    assert (out / "static/css/site.css").read_bytes() == (sources_of(wheel) / "static/css/site.css").read_bytes()
    assert (out / "404.html").is_file()
    # and the wheel's install is not written to: the build went only to the project's build/
    assert not list(venv.rglob(".site-builder-output"))
