"""Builds the package; compiles the engine's hot modules with mypyc (engine/native.py).

Everything else about the package is in pyproject.toml. Set TRIALCODE_PURE=1 when installing
to skip the compilation (no C compiler, or debugging): the engine then runs its Python sources,
with the same results, more slowly.
"""

import os
import runpy

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ext_modules = []
cmdclass = {}
if os.environ.get("TRIALCODE_PURE", "") in ("", "0"):
    from mypyc.build import mypycify

    native = runpy.run_path(os.path.join("engine", "native.py"))
    # The digests of the sources being compiled, recorded only once the build has succeeded:
    # the engine runs the compiled modules only while its sources still have these digests.
    manifest = native["manifest_text"]()
    paths = [os.path.join(*m.split(".")) + ".py" for m in native["MODULES"]]
    ext_modules = mypycify(paths, opt_level="3", group_name=native["GROUP"])
    # the hand-written C extensions of the native build (engine/_construct.c)
    ext_modules += [
        Extension(m, [os.path.join(*m.split(".")) + ".c"], extra_compile_args=["-O2"])
        for m in native["C_MODULES"]
    ]

    class BuildAndRecord(build_ext):
        def run(self) -> None:
            super().run()
            # beside the sources (an editable install runs them in place) and, for a wheel,
            # beside the compiled modules in the build tree
            native["write_manifest"](manifest)
            if not self.inplace:
                native["write_manifest"](manifest, os.path.join(self.build_lib, "engine"))

    cmdclass["build_ext"] = BuildAndRecord

setup(ext_modules=ext_modules, cmdclass=cmdclass)
