"""Docstrings in numpydoc sections, built from one description per parameter: the schemes,
torch.nn.init's names and the theory share their parameters' words."""
from __future__ import annotations

import inspect
from typing import Any, Callable, Mapping


def numpydoc(function: Callable[..., Any], docs: Mapping[Any, str], returns: str) -> str:
    """``function``'s docstring with numpydoc Parameters and Returns sections, each parameter
    described by ``docs`` ({name or (function name, name): its type, a newline, its
    description}), then
    ``returns`` (a Returns section), then its examples under an Examples header."""
    text = inspect.cleandoc(function.__doc__ or "")
    summary, examples = text, ""
    if ">>>" in text:
        cut = text.index(">>>")
        summary, examples = text[:cut].rstrip(), text[cut:]
    entries = []
    for name in inspect.signature(function).parameters:
        doc = docs.get((function.__name__, name)) or docs[name]
        kind, *lines = doc.split("\n")
        entries += [f"{name} : {kind}", *("    " + line.strip() for line in lines)]
    parts = [summary, "", "Parameters", "----------", *entries, "", inspect.cleandoc(returns)]
    if examples:
        parts += ["", "Examples", "--------", examples]
    body = "\n".join(parts).split("\n")
    return "\n".join(["    " + line if line else "" for line in body]).lstrip()


def documented(docs: Mapping[Any, str], returns: str) -> Callable[[Any], Any]:
    """A decorator giving a function numpydoc sections (``numpydoc`` with ``docs``)."""
    def decorate(function: Any) -> Any:
        function.__doc__ = numpydoc(function, docs, returns)
        return function
    return decorate
