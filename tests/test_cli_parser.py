"""The command line's parser, in process: every command's options, their help (what each takes,
its default, the valid names) and the values it parses to. (tests/test_cli.py runs the commands
as a user does, in a subprocess.)"""
import os

import pytest

import fastinit
from fastinit.cli import main
from fastinit.cli.parser import build_parser
from fastinit.initializers import SCHEMES


def cli_help(capsys, *command):
    with pytest.raises(SystemExit) as exit:
        main([*command, "--help"])
    assert exit.value.code == 0
    return capsys.readouterr().out


# what each command's help must offer (docs/sweeps.md's command-line section documents these)
HELP_OPTIONS = {
    "demo": ["--out", "--seed", "--report"],
    "run": ["--init", "--activation", "--layers", "--batch", "--seed", "--dtype", "--bias",
            "--threads", "--backward", "--perturbation", "--input-correlation", "--plot"],
    "sweep": ["--init", "--activation", "--depth", "--width", "--seeds", "--out", "--resume",
              "--workers", "--scheduler", "--threads", "--plot", "--heatmap"],
    "report": ["--out"],
    "phase": ["--activation", "--grid", "--w-max", "--b-max", "--plot"],
    "isometry": ["--width", "--depths", "--batch", "--seed", "--threads", "--plot"],
    "bench": ["--widths", "--depth", "--batch", "--repeats"],
    "train-demo": ["--out", "--steps", "--batch-size", "--lr", "--width", "--depth", "--dtype",
                   "--seed", "--threads"],
    "trainability": ["--sigma-w2", "--depths", "--width", "--sigma-b2", "--steps", "--lr",
                     "--seed", "--out", "--resume", "--plot", "--report", "--workers",
                     "--scheduler", "--threads"],
}
# options that take a value but have no default to state (they switch something on)
NO_DEFAULT = {"--perturbation", "--input-correlation", "--plot", "--heatmap", "--config",
              "--report", "--scheduler", "--resume"}


def help_blocks(text):
    """{option: its help text, continuation lines joined} of an argparse help page."""
    blocks, current = {}, None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("-"):
            current = stripped.split()[0].rstrip(",")
            if current == "-h":
                current = "--help"
            blocks[current] = stripped
        elif current and stripped and line.startswith(" " * 10):
            blocks[current] += " " + stripped
        else:
            current = None
    return blocks


@pytest.mark.parametrize("command", sorted(HELP_OPTIONS))
def test_help_everywhere(capsys, command):
    out = cli_help(capsys, command)
    assert out.startswith(f"usage: fastinit {command}")
    blocks = help_blocks(out)
    for option in HELP_OPTIONS[command]:
        assert option in blocks, option
    for option, text in blocks.items():
        synopsis = text.split("  ")[0].replace(",", " ").split()
        takes_value = any(not t.startswith("-") for t in synopsis)  # "--seed SEED"
        if takes_value and option not in NO_DEFAULT:
            assert "default" in text or "required" in text, (option, text)
    if "--activation" in blocks:
        for name in fastinit.ACTIVATIONS:
            assert name in blocks["--activation"], name
    if "--init" in blocks:
        for name in SCHEMES:
            assert name in blocks["--init"], name
    assert "-h, --help" in out


def test_help_states_the_defaults(capsys):
    blocks = help_blocks(cli_help(capsys, "run"))
    for option, default in (("--init", "lecun_normal"), ("--activation", "tanh"),
                            ("--layers", "500x10"), ("--batch", "1000"), ("--seed", "0"),
                            ("--dtype", "float64"), ("--bins", "30"), ("--format", "table")):
        assert f"(default: {default})" in blocks[option], option


def test_top_level_help_lists_every_command(capsys):
    out = cli_help(capsys)
    for command in ("demo", "run", "sweep", "report", "phase", "bench"):
        assert any(line.strip().startswith(command) for line in out.splitlines()), command
    assert "--version" in out


@pytest.mark.parametrize("command, defaults", [
    ("demo", {"out": "fastinit-demo", "seed": 0, "report": False, "quiet": False}),
    ("run", {"init": "lecun_normal", "activation": "tanh", "layers": "500x10", "batch": 1000,
             "seed": 0, "dtype": "float64", "bias": "0", "bins": 30, "threads": None,
             "format": "table", "theory": False, "backward": False, "perturbation": None,
             "input_correlation": None, "plot": None, "quiet": False}),
    ("phase", {"activation": "tanh", "grid": 64, "w_max": 4.0, "b_max": 0.5,
               "format": "table", "plot": None}),
    ("bench", {"widths": "128,500,2048", "depth": 10, "batch": 1000, "repeats": 3}),
])
def test_parsed_defaults(command, defaults):
    args = vars(build_parser().parse_args([command]))
    assert args["command_name"] == command
    assert {k: args[k] for k in defaults} == defaults


def test_sweep_and_report_arguments():
    args = build_parser().parse_args(["sweep", "--out", "s.csv", "--init", "zeros",
                                      "--workers", "2", "--threads", "1", "--resume"])
    assert (args.out, args.init, args.workers, args.threads, args.resume) == (
        "s.csv", "zeros", 2, 1, True)
    assert args.command == args.command_name == "sweep"
    assert all(getattr(args, k) is None for k in ("activation", "depth", "width", "batch",
                                                  "dtype", "bias", "seeds", "scheduler"))
    args = build_parser().parse_args(["report", "s.jsonl"])
    assert (args.results, args.out, args.command_name) == ("s.jsonl", "report.html", "report")


@pytest.mark.parametrize("argv, message", [
    (["sweep", "--init", "zeros"], "the following arguments are required: --out"),
    (["sweep", "--out", "x.csv", "--workers", "2", "--scheduler", "a"], "not allowed with"),
    (["run", "--dtype", "float16"], "invalid choice: 'float16'"),
    (["report"], "the following arguments are required: FILE"),
])
def test_bad_usage_is_one_line_and_exit_2(capsys, argv, message):
    with pytest.raises(SystemExit) as exit:
        build_parser().parse_args(argv)
    assert exit.value.code == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_layers_error_shows_the_accepted_form(capsys):
    assert main(["run", "--layers", "500*10", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "--layers takes WIDTHxDEPTH like 500x10" in err
    assert "'500*10'" in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("argv, values", [
    (["run", "--batch", "7", "--seed", "3", "--bins", "5", "--threads", "2",
      "--perturbation", "0.5", "--input-correlation", "0.25"],
     {"batch": 7, "seed": 3, "bins": 5, "threads": 2, "perturbation": 0.5,
      "input_correlation": 0.25}),
    (["demo", "--seed", "4"], {"seed": 4}),
    (["sweep", "--out", "x.csv", "--workers", "3", "--threads", "1"],
     {"workers": 3, "threads": 1}),
    (["bench", "--depth", "2", "--batch", "9", "--repeats", "4"],
     {"depth": 2, "batch": 9, "repeats": 4}),
])
def test_numbers_parse_to_numbers(argv, values):
    args = vars(build_parser().parse_args(argv))
    for key, value in values.items():
        assert args[key] == value and type(args[key]) is type(value), key


# The help pages as users read them, kept in tests/golden/help_<command>.txt: any change to an
# option's wording, metavar, default or choices shows up here and is accepted by rewriting the
# file (FASTINIT_UPDATE_GOLDEN=1 pytest tests/test_cli_parser.py) after reading the diff. (The
# layout is argparse's of Python 3.11, which CI runs; another Python may wrap differently.)
@pytest.mark.parametrize("command", ["", *sorted(HELP_OPTIONS)])
def test_help_pages_are_the_reviewed_ones(capsys, monkeypatch, command):
    import pathlib
    monkeypatch.setenv("COLUMNS", "100")  # argparse wraps to the terminal's width
    out = cli_help(capsys, *([command] if command else []))
    golden = pathlib.Path(__file__).parent / "golden" / f"help_{command or 'fastinit'}.txt"
    if os.environ.get("FASTINIT_UPDATE_GOLDEN"):
        golden.write_text(out)
    assert out == golden.read_text()


def _subcommands():
    import argparse
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices


# numbers the command reads itself (fastinit.text_specs), to name the option in its own message
READ_BY_THE_COMMAND = {("phase", "grid"), ("phase", "w_max"), ("phase", "b_max"),
                       ("sweep", "seeds")}


@pytest.mark.parametrize("command", sorted(HELP_OPTIONS))
def test_every_numeric_option_parses_to_its_documented_kind(command):
    """Every option whose help states a number (an int default, or N/X/LR as its value) parses
    to that kind of number, in every command: "7" to 7, never the string "7" (except those
    the command reads itself, which stay text)."""
    sub = _subcommands()[command]
    required = ["--out", "x.csv"] if command == "sweep" else (["r.csv"] if command == "report"
                                                              else [])
    checked = 0
    for action in sub._actions:
        if not action.option_strings or action.nargs == 0:
            continue
        kind = type(action.default) if isinstance(action.default, (int, float)) and \
            not isinstance(action.default, bool) else None
        if action.metavar == "N":
            kind = int
        elif action.metavar in ("X", "LR") or action.dest == "lr":
            kind = float
        if kind is None:
            continue
        value = "7" if kind is int else "0.5"
        args = vars(sub.parse_args(required + [action.option_strings[-1], value]))
        checked += 1
        if (command, action.dest) in READ_BY_THE_COMMAND:
            assert args[action.dest] == value
            continue
        assert args[action.dest] == kind(value) and type(args[action.dest]) is kind, \
            (command, action.dest)
    assert checked or command == "report", command


@pytest.mark.parametrize("command", sorted(HELP_OPTIONS))
def test_every_command_dispatches_to_its_own_handler(command):
    required = ["--out", "x.csv"] if command == "sweep" else (["r.csv"] if command == "report"
                                                              else [])
    args = build_parser().parse_args([command, *required])
    assert args.command == command and args.command_name == command
