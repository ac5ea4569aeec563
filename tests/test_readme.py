"""The README is a user's first page (issue 29): its code runs as written, what it says a call
prints is what the call prints, and every page it links exists."""
import contextlib
import importlib.util
import io
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def readme():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        return f.read()


def python_blocks():
    return re.findall(r"```python\n(.*?)```", readme(), re.S)


@pytest.mark.parametrize("index", range(len(python_blocks())))
def test_every_python_block_runs_as_written(index, tmp_path, monkeypatch):
    block = python_blocks()[index]
    for module in ("torch", "jax", "matplotlib"):
        if re.search(rf"\bimport [^\n]*\b{module}\b", block) or (
                module == "matplotlib" and ".plot(" in block):
            if importlib.util.find_spec(module) is None:
                pytest.skip(f"the block needs {module}")
    monkeypatch.chdir(tmp_path)  # files the block writes land here
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(block, f"README block {index}", "exec"), {})
    # a commented line "# a -> b" after a print is what the print printed
    promised = [line[2:] for line in block.splitlines() if line.startswith("# ") and " -> " in
                line]
    if promised:
        lines = [line for line in printed.getvalue().splitlines() if " -> " in line]
        assert lines == promised


def test_the_readme_opens_with_the_two_commands_and_links_only_pages_that_exist():
    text = readme()
    commands = re.findall(r"```bash\n(.*?)\n```", text, re.S)[:2]
    assert commands[0].endswith("fastinit demo --out fastinit-demo --report")
    assert commands[1].endswith("pip install '.[test]' && pytest tests")
    assert text.index(commands[1]) < text.index("## ")  # before any section
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text)
    assert links and all(os.path.exists(os.path.join(ROOT, link)) for link in links), links
    for page in os.listdir(os.path.join(ROOT, "docs")):
        if page.endswith(".md"):
            with open(os.path.join(ROOT, "docs", page), encoding="utf-8") as f:
                for link in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", f.read()):
                    assert os.path.exists(os.path.join(ROOT, "docs", link)), (page, link)
    # the name on PyPI is someone else's: no hint may send a user there
    assert "pip install fastinit" not in text.replace("never `pip install fastinit`", "")
    assert len(text.splitlines()) <= 220  # a user's page; the internals live in docs/
