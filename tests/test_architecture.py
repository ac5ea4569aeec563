"""The package's shape: the reference imports nothing compiled, no module reaches back into the
package __init__, the public functions are real functions found by name, the examples in the
docstrings run, and the activation table is the one source of activation facts."""
import ast
import doctest
import importlib
import inspect
import math
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import fastinit
import fastinit.reference as reference
from fastinit import activations

PACKAGE = pathlib.Path(fastinit.__file__).parent
COMPILED = tuple(f"fastinit._kernels.{name}"
                 for name in ("fill", "propagate", "backward", "openmp", "shared"))

HIDE_COMPILED = f"""
import importlib.abc, sys
class Hide(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name in {COMPILED!r}:
            raise ImportError(f"hidden: {{name}}")
sys.meta_path.insert(0, Hide())
import numpy as np
import fastinit.reference as r
w = r.he_normal((30, 20), rng=0, dtype="float32")
result = r.forward_prop([8, 8], "xavier_uniform", batch=4, rng=0, backward=True)
assert w.shape == (30, 20) and len(result.layers) == 2
assert not any(name in sys.modules for name in {COMPILED!r})
print("ok")
"""


def test_the_reference_imports_without_the_compiled_modules():
    result = subprocess.run([sys.executable, "-c", HIDE_COMPILED], capture_output=True,
                            text=True, timeout=120)
    assert result.stdout.strip() == "ok", result.stderr


def _imports_of_package_names(path):
    """(line, name) of every ``import fastinit`` / ``from fastinit import X`` where X is not a
    submodule: a name taken from the package __init__."""
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name == "fastinit" for a in node.names):
            found.append((node.lineno, "fastinit"))
        if isinstance(node, ast.ImportFrom) and node.module == "fastinit" and node.level == 0:
            for alias in node.names:
                if not (PACKAGE / f"{alias.name}.py").exists() and not (
                        PACKAGE / alias.name / "__init__.py").exists() and not list(
                        PACKAGE.glob(f"{alias.name}.*.so")) and not (
                        PACKAGE / f"{alias.name}.pyx").exists():
                    found.append((node.lineno, alias.name))
    return found


@pytest.mark.parametrize("path", sorted(p for p in PACKAGE.rglob("*.py")
                                        if p.name != "__init__.py" or p.parent != PACKAGE),
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_reaches_back_into_the_package_init(path):
    assert _imports_of_package_names(path) == []


# The package's layers, bottom first (README, "Layout"): a module imports only modules of its own
# layer or of layers below it, lazy imports inside functions included. The first five layers
# are the spec, pure NumPy; the compiled kernels sit above them, used only by the engine.
LAYERS = [
    ("foundation", ["_version", "_typing", "_docs", "_validation", "_ziggurat", "activations",
                    "tensors"]),
    ("stream and laws", ["laws", "seeding", "sources", "backends", "fans"]),
    ("schemes", ["regions", "structured", "initializers", "text_specs", "torch_style"]),
    ("networks and theory", ["theory", "predictions", "gradients", "network", "results",
                             "plot", "jacobians", "learning"]),
    ("reference", ["reference"]),
    ("kernels", ["_kernels"]),
    ("engine", ["streams", "propagation", "isometry", "training"]),
    ("front ends", ["torch", "jax", "keras"]),
    ("sweeps", ["sweep"]),
    ("application", ["cli", "_config", "__main__", "__init__"]),
]
LAYER_OF = {unit: rank for rank, (_, units) in enumerate(LAYERS) for unit in units}


def _unit(module):
    """The layer unit of a dotted module name below fastinit: its first component."""
    return module.split(".")[1] if "." in module else "__init__"


def _imported_modules(path):
    """(line, fastinit module) of every import of a fastinit module in a .py or .pyx file."""
    text = path.read_text()
    found = []
    if path.suffix == ".py":
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and (
                    node.module + ".").startswith("fastinit."):
                found += [(node.lineno, f"{node.module}.{a.name}") if node.module == "fastinit"
                          else (node.lineno, node.module) for a in node.names]
            elif isinstance(node, ast.Import):
                found += [(node.lineno, a.name) for a in node.names
                          if a.name.startswith("fastinit.")]
    else:  # Cython: import and cimport lines
        for number, line in enumerate(text.splitlines(), 1):
            words = line.split()
            if len(words) > 3 and words[0] == "from" and words[1].startswith("fastinit"):
                found.append((number, words[1] if words[1] != "fastinit" else
                              f"fastinit.{words[3].rstrip(',')}"))
    return found


SOURCES = sorted([*PACKAGE.rglob("*.py"), *PACKAGE.rglob("*.pyx")])


def test_every_module_has_a_layer():
    units = {_unit(".".join(("fastinit", *p.relative_to(PACKAGE).with_suffix("").parts)))
             for p in SOURCES}
    assert units == set(LAYER_OF)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_import_runs_back_up_a_layer(path):
    unit = _unit(".".join(("fastinit", *path.relative_to(PACKAGE).with_suffix("").parts)))
    upward = [(line, module) for line, module in _imported_modules(path)
              if LAYER_OF[_unit(module)] > LAYER_OF[unit]]
    assert upward == [], f"{path.name} ({LAYERS[LAYER_OF[unit]][0]}) imports from above"


@pytest.mark.parametrize("name", ["he_normal", "xavier_uniform", "orthogonal", "sparse",
                                  "get_initializer", "forward_prop"])
def test_public_functions_are_defined_under_their_own_name(name):
    function = getattr(fastinit, name)
    source = inspect.getsource(function)
    assert f"\ndef {name}(" in "\n" + source  # the function itself, perhaps decorated
    if name not in ("get_initializer", "forward_prop"):
        parameters = inspect.signature(function).parameters
        assert {"shape", "rng", "dtype", "out", "num_threads"} <= set(parameters)
        assert "Parameters\n    ----------" in function.__doc__
        # the reference's binding shows the same signature, without the backend
        bound = inspect.signature(getattr(reference, name)).parameters
        assert list(bound) == [p for p in parameters if p != "backend"]


def test_both_forward_props_hand_on_exactly_their_signature():
    # the engine's and the reference's forward_prop take ForwardArgs' fields, in its order,
    # with its defaults (block_bytes: the engine's default is BLOCK_BYTES, which None means)
    from dataclasses import MISSING, fields
    from fastinit import propagation
    from fastinit.network import ForwardArgs
    expected = [(f.name, None if f.default is MISSING else f.default)
                for f in fields(ForwardArgs)]
    for function, block_bytes in [(fastinit.forward_prop, propagation.BLOCK_BYTES),
                                  (reference.forward_prop, None)]:
        parameters = inspect.signature(function).parameters.values()
        got = [(p.name, None if p.default is inspect.Parameter.empty else p.default)
               for p in parameters]
        assert got == [(n, block_bytes if n == "block_bytes" else d) for n, d in expected]
    # and every argument reaches the plan: a wrong one is named in the error
    for name, bad in [("batch", 0), ("bins", -1), ("negative_slope", "x"), ("num_threads", 0),
                      ("input_correlation", 2.0), ("dtype", "int8")]:
        for api in (fastinit, reference):
            with pytest.raises((TypeError, ValueError), match=name if name != "dtype" else
                               "dtype"):
                api.forward_prop([3], "he_normal", **{name: bad})


def test_an_initializer_shows_its_parameters():
    init = fastinit.get_initializer("he_normal", nonlinearity="tanh")
    assert repr(init) == "Initializer('he_normal', nonlinearity='tanh')"
    init = fastinit.get_initializer("he_uniform", mode="fan_out", a=0.2)
    assert repr(init) == "Initializer('he_uniform', mode='fan_out', a=0.2)"


MODULES_WITH_EXAMPLES = ["initializers", "structured", "propagation", "torch_style", "keras",
                         "regions", "torch", "jax"]


@pytest.mark.parametrize("module", MODULES_WITH_EXAMPLES)
def test_docstring_examples_run(module):
    if module in ("torch", "jax"):
        pytest.importorskip(module)
    mod = importlib.import_module(f"fastinit.{module}")
    result = doctest.testmod(mod, extraglobs={"fastinit": fastinit, "np": np},
                             optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_activation_codes_are_distinct_and_every_row_is_complete():
    codes = [row.code for row in activations.TABLE.values()]
    assert len(set(codes)) == len(codes)
    assert fastinit.ACTIVATIONS == tuple(activations.TABLE)
    for row in activations.TABLE.values():
        x = np.linspace(-3, 3, 13)
        assert np.all(np.isfinite(row.phi(x, 0.1))) and np.all(np.isfinite(row.dphi(x, 0.1)))
        if row.range is not None:
            assert row.range[0] <= row.phi(x, 0.1).min() <= row.phi(x, 0.1).max() <= row.range[1]


def test_the_kernels_codes_and_constants_are_the_tables():
    # the kernels define their codes and constants in C (_kernels/shared.pxd) and export them
    from fastinit._kernels import shared
    codes, constants = shared.activation_constants()
    assert codes == {name: row.code for name, row in activations.TABLE.items()}
    assert constants == {"selu_scale": activations.SELU_SCALE,
                         "selu_alpha": activations.SELU_ALPHA, "sqrt1_2": math.sqrt(0.5)}


def test_figures_gains_and_theory_read_the_activation_table():
    from fastinit import plot
    rows = activations.TABLE.values()
    assert len({row.marker for row in rows}) == len(activations.TABLE)  # told apart in print
    assert all(plot.marker(row.name) == row.marker for row in rows)
    # the theory bisects q* in [0, sigma_w^2 + sigma_b^2] for a bounded activation: |phi| <= 1
    assert all(-1 <= row.range[0] < row.range[1] <= 1 for row in rows if row.range)
    for row in rows:
        if row.gain is not None:
            assert fastinit.calculate_gain(row.name) == row.gain
    # torch's gains (torch.nn.init.calculate_gain), written out: the table's must be these
    assert {row.name: row.gain for row in rows if row.gain is not None} == {
        "linear": 1.0, "sigmoid": 1.0, "tanh": 5 / 3, "relu": math.sqrt(2), "selu": 0.75}


def test_layer_outputs_index_like_the_notebook_and_from_the_end():
    result = fastinit.forward_prop([6, 5, 4], "he_normal", batch=3, rng=0)
    acts = result.acts
    assert len(acts) == 3 and list(acts) == [0, 1, 2]
    assert acts[-1] is acts[2] and acts[-1].shape == (3, 4)
    assert [i for i, _ in acts.items()] == [0, 1, 2]
    dropped = fastinit.forward_prop([6, 5], "he_normal", batch=3, rng=0,
                                    keep_activations=False).acts
    assert len(dropped) == 0
    with pytest.raises(KeyError, match="keep_activations=True"):
        dropped[0]
    with pytest.raises(KeyError, match="out of range"):
        acts[3]


def test_layer_numbers_count_from_one_everywhere():
    result = fastinit.forward_prop([6, 5], "he_normal", batch=3, rng=0)
    assert [layer.layer for layer in result.layers] == [1, 2]
    assert [r["layer"] for r in result.to_records()] == [1, 2]
    assert result.report().splitlines()[0].startswith("Hidden layer 1 ")


def test_the_mutation_runs_configuration_names_files_that_exist():
    """pyproject.toml's [tool.mutmut] names the modules to mutate and the test files to run;
    a file renamed or split away (test_reliability.py once was) makes `mutmut run` stop at its
    first pytest call."""
    import pathlib
    import tomllib
    root = pathlib.Path(__file__).parent.parent
    config = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["mutmut"]
    for path in config["only_mutate"] + config["pytest_add_cli_args_test_selection"]:
        assert (root / path).is_file(), path
    # the torch and JAX test files stay out (torch in mutmut's fork server crashes the children)
    assert not {"tests/test_peer_names.py", "tests/test_torch_modules.py"} & set(
        config["pytest_add_cli_args_test_selection"])


def test_the_reference_draws_nothing_from_the_engine(monkeypatch):
    """In process, with the engine's stream made to fail: the reference's forward_prop draws
    every weight, bias and input from its own NumPy stream, whether the initializers come as
    names, spec text or the reference's own Initializers (a backend lost on the way from
    forward_prop to the scheme would hand the draw to the engine, and the reference would no
    longer be an independent oracle)."""
    import fastinit.streams

    class Refused:
        def __init__(self, *args, **kwargs):
            raise AssertionError("the reference used the engine's stream")

    monkeypatch.setattr(fastinit.streams, "Stream", Refused)
    with pytest.raises(AssertionError, match="engine's stream"):  # the poison works
        fastinit.he_normal((3, 3), rng=0)
    init = reference.get_initializer("normal", std=0.5)
    assert init((2, 2), rng=0).shape == (2, 2)
    for weight_init, bias in [("he_normal", "normal:std=0.1"), ("orthogonal", 0.0),
                              (init, reference.get_initializer("uniform", low=-0.1, high=0.1))]:
        for extra in ({}, {"perturbation": 0.1}):
            result = reference.forward_prop([6, 6], weight_init, bias=bias, batch=4, rng=0,
                                            backward=True, **extra)
            assert len(result.layers) == 2 and np.isfinite(result.layers[1].std)
