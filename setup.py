"""Only to put the top-level default theme (templates/, static/) inside the wheel."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildPyWithTheme(build_py):
    def run(self) -> None:
        super().run()
        root = Path(__file__).resolve().parent
        target = Path(self.build_lib) / "site_builder" / "theme"
        for name in ("templates", "static"):
            shutil.copytree(root / name, target / name, dirs_exist_ok=True)


setup(cmdclass={"build_py": BuildPyWithTheme})
