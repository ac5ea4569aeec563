"""The package's shape: the reference imports nothing compiled, no module reaches back into the
package __init__, the public functions are real functions found by name, the examples in the
docstrings run, and the activation table is the one source of activation facts."""
import ast
import doctest
import importlib
import inspect
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import fastinit
import fastinit.reference as reference
from fastinit import activations

PACKAGE = pathlib.Path(fastinit.__file__).parent
COMPILED = ("fastinit._fill", "fastinit._propagate", "fastinit._backward", "fastinit._openmp")

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
                if not (PACKAGE / f"{alias.name}.py").exists() and not list(
                        PACKAGE.glob(f"{alias.name}.*.so")) and not (
                        PACKAGE / f"{alias.name}.pyx").exists():
                    found.append((node.lineno, alias.name))
    return found


@pytest.mark.parametrize("path", sorted(p for p in PACKAGE.rglob("*.py")
                                        if p.name != "__init__.py" or p.parent != PACKAGE),
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_reaches_back_into_the_package_init(path):
    assert _imports_of_package_names(path) == []


@pytest.mark.parametrize("name", ["he_normal", "xavier_uniform", "orthogonal", "sparse",
                                  "get_initializer", "forward_prop"])
def test_public_functions_are_defined_under_their_own_name(name):
    function = getattr(fastinit, name)
    source = inspect.getsource(function)
    assert f"\ndef {name}(" in "\n" + source  # the function itself, perhaps decorated
    if name not in ("get_initializer", "forward_prop"):
        parameters = inspect.signature(function).parameters
        assert {"shape", "rng", "dtype", "out", "num_threads"} <= set(parameters)
        assert "Common parameters" in function.__doc__
        # the reference's binding shows the same signature, without the backend
        bound = inspect.signature(getattr(reference, name)).parameters
        assert list(bound) == [p for p in parameters if p != "backend"]


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
