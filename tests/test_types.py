"""The public API as tools read it: every public function annotated and documented in numpydoc
sections (Parameters naming exactly its parameters, Returns), read back with numpydoc's own
parser; and pyright, run on the package, finds no error."""
import importlib
import importlib.util
import inspect
import json
import os
import pathlib
import shutil
import subprocess
import sys
import types

import pytest

import fastinit
from fastinit import sweep, theory

numpydoc = pytest.importorskip("numpydoc.docscrape")


def _modules():
    """The public modules with their __all__: the package, theory, sweeps, the peers' front
    ends (each where its peer is installed)."""
    modules = [fastinit, theory, sweep, importlib.import_module("fastinit.keras")]
    for name, peer in [("fastinit.torch", "torch"), ("fastinit.jax", "jax")]:
        if importlib.util.find_spec(peer) is not None:
            modules.append(importlib.import_module(name))
    return modules


def _public_functions():
    found = {}
    for module in _modules():
        names = module.__all__
        for name in names:
            value = getattr(module, name)
            if isinstance(value, types.FunctionType):
                found[f"{module.__name__}.{name}"] = value
    return found


PUBLIC = _public_functions()


def test_the_public_set_is_not_empty():
    assert {"fastinit.he_normal", "fastinit.forward_prop", "fastinit.kaiming_uniform_",
            "fastinit.theory.chi_1", "fastinit.sweep.sweep", "fastinit.keras.get",
            "fastinit.jacobian_spectrum"} <= set(PUBLIC)


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_public_functions_are_annotated(name):
    function = PUBLIC[name]
    signature = inspect.signature(function)
    missing = [p.name for p in signature.parameters.values()
               if p.annotation is inspect.Parameter.empty]
    assert missing == [], f"{name}: parameters without a type: {missing}"
    assert signature.return_annotation is not inspect.Signature.empty, f"{name}: no return type"


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_public_functions_have_numpydoc_sections(name):
    function = PUBLIC[name]
    doc = numpydoc.FunctionDoc(function)
    documented = [p.name for p in doc["Parameters"]]
    # numpydoc lists "a, b : float" as one entry: split it
    documented = [n.strip().lstrip("*") for entry in documented for n in entry.split(",")]
    expected = [n.lstrip("*") for n in inspect.signature(function).parameters]
    assert documented == expected, name
    assert doc["Returns"] or doc["Yields"], f"{name}: no Returns section"


@pytest.mark.slow
def test_pyright_finds_no_error_in_the_package(tmp_path):
    # the package as installed (with its .pyi stubs and py.typed), checked from an empty
    # folder so that no other configuration applies: pyright's standard mode
    pyright = shutil.which("pyright") or pytest.skip("pyright is not installed (the test extra)")
    package = pathlib.Path(fastinit.__file__).parent
    # extraPaths: the folder holding the package, which an editable install's import hook
    # would hide from pyright
    (tmp_path / "pyrightconfig.json").write_text(json.dumps({
        "include": [os.path.relpath(package, tmp_path)], "extraPaths": [str(package.parent)],
        "typeCheckingMode": "standard"}))
    result = subprocess.run([pyright, "--pythonpath", sys.executable, "--outputjson"],
                            capture_output=True, text=True, timeout=900, cwd=tmp_path)
    report = json.loads(result.stdout)
    errors = [f"{d['file']}:{d['range']['start']['line'] + 1}: {d['message']}"
              for d in report["generalDiagnostics"] if d["severity"] == "error"]
    assert errors == [] and result.returncode == 0, errors[:40]
    assert report["summary"]["filesAnalyzed"] >= 40  # the whole package, not an empty folder


def test_every_keras_initializer_is_exported():
    keras = importlib.import_module("fastinit.keras")
    assert set(keras.NAMES) <= set(keras.__all__)
