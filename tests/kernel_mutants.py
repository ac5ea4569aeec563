"""Planted bugs in the compiled kernels, which mutmut cannot mutate (Cython and C).

    python tests/kernel_mutants.py            # every edit below; about 15 minutes on 2 cores
    python tests/kernel_mutants.py philox     # the edits whose name contains "philox"

Each edit is a realistic slip in one kernel source. The script applies it, rebuilds the
extensions in place (``python setup.py build_ext --inplace --force``, since an edited header is
not a dependency setuptools tracks: run it in a checkout installed with ``pip install -e``),
runs the tests that guard that kernel and records whether any failed
("killed") or all passed ("SURVIVED"); then it restores the source, and rebuilds once more at
the end. The exit status is the number of survivors. Not part of the test suite (it rewrites
the sources), nor collected by pytest (the file name does not start with ``test_``).
"""
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (name, file, the exact text, its replacement, the tests that must catch it)
EDITS = [
    ("philox multiplier", "fastinit/_kernels/src/philox.h", "#define FI_PHILOX_M0 0xD2511F53u",
     "#define FI_PHILOX_M0 0xD2511F55u", ["tests/test_stream.py", "tests/test_golden.py"]),
    ("philox key schedule", "fastinit/_kernels/src/philox.h", "#define FI_PHILOX_W0 0x9E3779B9u",
     "#define FI_PHILOX_W0 0x9E3779BBu", ["tests/test_stream.py", "tests/test_golden.py"]),
    ("float32 uniform scale", "fastinit/_kernels/src/uniform.h",
     "float v = fmaf(width, (float)(int32_t)(w[k] >> 8) * 0x1p-24f, low);",
     "float v = fmaf(width, (float)(int32_t)(w[k] >> 8) * 0x1p-23f, low);",
     ["tests/test_simd.py", "tests/test_golden.py", "tests/test_distributions.py"]),
    ("seed sequence mixing", "fastinit/_kernels/src/seed_sequence.h", "#define FI_SS_MULT_A 0x931e8875u",
     "#define FI_SS_MULT_A 0x931e8877u", ["tests/test_seeding.py", "tests/test_golden.py"]),
    ("bfloat16 rounding: truncation", "fastinit/_kernels/src/half.h",
     "x += 0x7fffu + ((x >> 16) & 1u);", "x += 0u;", ["tests/test_half.py"]),
    ("tanh coefficient", "fastinit/_kernels/src/activations.h",
     "double den_small = ((z + 1.12811678491632931402E2) * z",
     "double den_small = ((z + 1.12811678491632931402E1) * z",
     ["tests/test_propagation.py", "tests/test_golden_records.py"]),
    ("leaky ReLU slope dropped", "fastinit/_kernels/propagate.pyx",
     "h[i] = h[i] if h[i] > 0 else <floating>(slope * h[i])",
     "h[i] = h[i] if h[i] > 0 else <floating>(0.0 * h[i])", ["tests/test_propagation.py"]),
    ("tanh derivative", "fastinit/_kernels/backward.pyx", "g[i] = g[i] * (one - h[i] * h[i])",
     "g[i] = g[i] * (one - h[i])", ["tests/test_gradients.py"]),
    ("histogram margin 0", "fastinit/_kernels/src/reductions.h",
     "return 16.0 * unit * (reach * scale + bins);", "return 0.0 * unit * (reach * scale + bins);",
     ["tests/test_simd.py", "tests/test_propagation.py"]),
    ("trainer: momentum dropped from the weights' update", "fastinit/_kernels/backward.pyx",
     "pv[i] = mu * pv[i] + pd[i]", "pv[i] = pd[i]", ["tests/test_training.py"]),
    ("trainer: dL/dH of the layer below never computed", "fastinit/_kernels/backward.pyx",
     "                if has_prev:\n                    # g_prev",
     "                if False:\n                    # g_prev", ["tests/test_training.py"]),
    ("trainer: bias left out of the forward pass", "fastinit/_kernels/propagate.pyx",
     "h[j] = h[j] + b[c0 + j]", "h[j] = h[j]", ["tests/test_training.py"]),
    ("orthogonal QR: sign of R's diagonal flipped", "fastinit/_kernels/shared.pyx",
     "signs[j] = <floating>(-gain) if w[j + <Py_ssize_t>j * m] < 0 else <floating>gain",
     "signs[j] = <floating>(-gain) if w[j + <Py_ssize_t>j * m] > 0 else <floating>gain",
     ["tests/test_propagation.py", "tests/test_sweep.py"]),
    ("orthogonal QR: a tall weight left column-major", "fastinit/_kernels/shared.pyx",
     "    if cols < rows:  # tall", "    if cols < 0:  # tall",
     ["tests/test_propagation.py", "tests/test_sweep.py"]),
]


def build():
    subprocess.run([sys.executable, "setup.py", "build_ext", "--inplace", "--force", "-q"], cwd=ROOT,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def run(edit):
    name, path, old, new, tests = edit
    path = os.path.join(ROOT, path)
    with open(path, encoding="utf-8") as f:
        source = f.read()
    if source.count(old) != 1:
        return "NOT FOUND"
    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write(source.replace(old, new))
        build()
        result = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p",
                                 "no:cacheprovider", *tests], cwd=ROOT, capture_output=True,
                                text=True)
        return "killed" if result.returncode != 0 else "SURVIVED"
    finally:
        with open(path, "w", encoding="utf-8") as f:
            f.write(source)


def main(argv):
    chosen = [e for e in EDITS if not argv or any(a in e[0] for a in argv)]
    outcomes = []
    try:
        for edit in chosen:
            start = time.perf_counter()
            outcome = run(edit)
            outcomes.append(outcome)
            print(f"{outcome:10s} {edit[0]} ({edit[1]}, {time.perf_counter() - start:.0f} s)",
                  flush=True)
    finally:
        build()  # the unedited kernels again
    killed = outcomes.count("killed")
    print(f"{killed} of {len(outcomes)} planted kernel bugs killed")
    return len(outcomes) - killed


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
