"""Builds the Cython extensions, with OpenMP where the compiler has it."""
import os
import sys
import tempfile
import textwrap

from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

# The compiled layer: fastinit/_kernels/*.pyx, their C headers in fastinit/_kernels/src/.
EXTENSIONS = [f"fastinit._kernels.{name}"
              for name in ("openmp", "shared", "fill", "propagate", "backward")]

OPENMP_PROBE = textwrap.dedent("""
    #include <omp.h>
    int main(void) {
        int n = 0;
        #pragma omp parallel reduction(+:n)
        n += 1;
        return n > 0 ? 0 : 1;
    }
""")


def openmp_flags(compiler):
    """(compile, link) flags for OpenMP, or ([], []) when this compiler cannot build with it."""
    if os.environ.get("FASTINIT_NO_OPENMP"):
        return [], []
    if compiler.compiler_type == "msvc":
        candidates = [(["/openmp"], [])]
    elif sys.platform == "darwin":
        candidates = [(["-Xpreprocessor", "-fopenmp"], ["-lomp"]), (["-fopenmp"], ["-fopenmp"])]
    else:
        candidates = [(["-fopenmp"], ["-fopenmp"])]
    for cflags, lflags in candidates:
        with tempfile.TemporaryDirectory() as tmp:
            src = os.path.join(tmp, "probe.c")
            with open(src, "w") as f:
                f.write(OPENMP_PROBE)
            try:
                objs = compiler.compile([src], output_dir=tmp, extra_postargs=cflags)
                compiler.link_executable(objs, os.path.join(tmp, "probe"), extra_postargs=lflags)
            except Exception:
                continue
            return cflags, lflags
    print("fastinit: the compiler has no OpenMP; building single-threaded kernels")
    return [], []


class BuildExt(build_ext):
    def build_extensions(self):
        cflags, lflags = openmp_flags(self.compiler)
        if self.compiler.compiler_type == "msvc":
            base = ["/O2"]
        else:
            # fp-contract=off: no fused multiply-adds, so the kernels round exactly like NumPy;
            # no-trapping-math: selects may be if-converted, so branch-free loops vectorise
            # (it changes no result, only what the compiler assumes about FP exceptions)
            base = ["-O3", "-ffp-contract=off", "-fno-trapping-math"]
        for ext in self.extensions:
            ext.extra_compile_args = base + cflags
            ext.extra_link_args = lflags
        super().build_extensions()


extensions = [
    Extension(name, [name.replace(".", "/") + ".pyx"], include_dirs=["fastinit/_kernels/src"])
    for name in EXTENSIONS
]

setup(
    ext_modules=cythonize(
        extensions,
        compiler_directives={"language_level": "3"},
    ),
    cmdclass={"build_ext": BuildExt},
)
