"""Write the survivors of the last mutmut run as the table in docs/mutation-survivors.md:
function, mutant, the changed line before and after, and the reason it survives.

    mutmut results            # after a run
    python tests/mutation_survivors.py rows.md

Reasons come from RULES over the changed line (each rule's matches checked by hand) and from
MANUAL, by hand, for the rest; a survivor neither covers is printed as "no reason" for review.
"""

import re, subprocess, sys, collections
out = subprocess.run(["mutmut", "results"], capture_output=True, text=True).stdout
names = [l.split(":")[0].strip() for l in out.splitlines() if l.strip().endswith("survived")]

EQ = "equivalent: "
RULES = [
    # (function regex, after regex, reason)
    (r".", r"num_threads=None\b|^\s*num_threads=None\)|\b\)$(?<=num_threads=None\))",
     EQ + "a thread count: every result is the same bits for any number of threads (tested)"),
    (r".", r"errstate\(\w+=None\)", EQ + "a NumPy warning filter (these floating-point warnings are not errors in the tests)"),
    (r".", r"Normal\(0\.0, \)", EQ + "std 1.0 is Normal's default"),
    (r".", r"closed_high=None|finite=None|copy=None", EQ + "None is falsy, as the False it replaces"),
    (r".", r"newline=None|encoding=None|\"UTF-8\"|newline=\"\", \)|open\(path, encoding|open\(tmp, \"w\", \)|open\(path, \"a\", \)|open\(path, \"w\", \)",
     EQ + "on the supported platforms: the files hold \\n line ends only and the locale is UTF-8 ('UTF-8' is the same codec)"),
    (r"calculate_gain", r"1e\+150", EQ + "1e+150 is the same number as 1e150"),
    (r".", r"dtype=None\)\)\)|np\.square\(a - b, \)|np\.sum\(a \* b, \)|np\.square\(p\.X, \)|np\.square\(b, \)|np\.square\(a, \)|dtype=None\) \*|dtype=None\) /",
     EQ + "float64 accumulation of arrays that are float64 already in the tests that reach it (float32 runs go through the kernels)"),
    (r"_jacobian_layers", r"mean", EQ + "the predicted mean only seeds jacobian_density's Newton continuation (its first eta and z): the converged density is the same"),
    (r"_relu_kernel", r"np\.clip", EQ + "the correlation is already in [-1, 1] up to rounding: the clip's other bound, or a wider one, changes nothing the tests reach"),
    (r"_pair_grid|_jacobian_layers", r"nodes=97|round\(t, 16\)|t\[::\+1\]|tw\[::\+1\]|if \(r > 0\) or True|r >= 0|None, _HALF_LINE|-_HALF_LINE, None",
     EQ + "within the quadrature's accuracy: a symmetric grid read in either order, one more node, another rounding of equal nodes, a clip the nodes never reach"),
    (r"split_axes|phi$|dphi$", r"^def ", EQ + "a default that every caller overrides (the public functions pass it)"),
    (r".", r"stacklevel", EQ + "a warning's stacklevel"),
    (r".", r"\"XX|'XX|XX\"|XX'|\"[A-Z][A-Z0-9 _:;,.()'=<>*/-]{2,}\"|help=|metavar", "left: the wording or case of a message or help text the tests do not pin word for word"),
]

MANUAL = {  # "function:mutant" -> reason, by hand (mutant numbers of the run of 2026-12-08)
    'activations._as:1':
        "left: the reference's float32 backward pass would multiply by a float64 phi' (more precise, then rounded back); its statistics agree within the tests' tolerance and no test reads an intermediate's dtype",
    'activations._as:4':
        "equivalent: astype's copy flag changes no value",
    'activations._as:6':
        "equivalent: astype's copy flag changes no value",
    'activations._sigmoid:11':
        'equivalent: at x = 0 both branches give 0.5',
    'activations.saturated_fraction:7':
        'equivalent: a boundary no computed float meets (a value exactly at the saturation threshold)',
    'activations.saturated_fraction:9':
        'equivalent: a boundary no computed float meets (a value exactly at the saturation threshold)',
    'cli.parser.HelpFormatter._get_help_string:3':
        'equivalent: every option has a help text',
    'cli.parser.HelpFormatter._get_help_string:8':
        "equivalent: no option's help states its default itself, so the check never skips one (the golden help pages)",
    'cli.parser.HelpFormatter._get_help_string:9':
        "equivalent: no option's help states its default itself, so the check never skips one (the golden help pages)",
    'cli.parser.Parser.__init__:7':
        'equivalent: no caller passes positional arguments to Parser',
    'cli.parser._add_isometry:85':
        "equivalent: None is argparse's default",
    'cli.parser._add_run:186':
        "equivalent: None is argparse's default",
    'cli.parser._add_run:202':
        "equivalent: None is argparse's default",
    'cli.parser._add_run:40':
        "equivalent: argparse's metavar for --layers is LAYERS by default (the golden help pages)",
    'cli.parser._add_run:44':
        "equivalent: argparse's metavar for --layers is LAYERS by default (the golden help pages)",
    'cli.parser._add_sweep:71':
        "equivalent: None is argparse's default",
    'cli.parser._add_sweep:80':
        "equivalent: None is argparse's default",
    'cli.parser._add_threads:7':
        "equivalent: None is argparse's default",
    'fans.calculate_gain:15':
        'equivalent: at |slope| = 1e150 the two formulas give the same gain to rounding',
    'fans.select_fan:20':
        'equivalent: a zero fan is a zero-element weight, and nothing is drawn whatever the fan',
    'initializers.Initializer.__call__:18':
        'equivalent: a thread count: every result is the same bits for any number of threads (tested)',
    'initializers._he_fan_and_gain:21':
        "equivalent: leaky_relu with slope 0 has ReLU's gain, sqrt(2)",
    'laws.Constant.params:13':
        "equivalent: a constant law's second parameter (its spread) is never read by the constant fill",
    'laws.Constant.params:4':
        'equivalent: the kernel rounds the value to the dtype when it writes it; rounding it to float64 first (a float64 already) is the same bits',
    'laws.Normal.params:23':
        "equivalent: a boundary no computed float meets (|mean| + 13.71 std exactly float32's largest)",
    'laws.TruncatedNormal.inversion:26':
        "equivalent: a boundary no computed float meets (the interval's mass exactly REDRAW_MIN_MASS)",
    'laws.TruncatedNormal.inversion:4':
        'equivalent in law: at alpha + beta = 0 the interval is its own mirror; the draws are mirrored, the same law (the KS tests), and no golden digest holds a symmetric interval narrow enough for the inversion path',
    'laws.TruncatedNormal.inversion:5':
        'equivalent in law: which tail an interval near the centre (0 < alpha + beta <= 1) is inverted from; both ends are far from the upper tail there, both are precise (the KS tests)',
    'network.Plan.standard_normal:22':
        'equivalent: a thread count: every result is the same bits for any number of threads (tested)',
    'network._upstream:18':
        'equivalent: the backward pass converts upstream to the layer dtype where it uses it',
    'network._upstream:20':
        'equivalent: the backward pass converts upstream to the layer dtype where it uses it',
    'network.data_range_edges:2':
        "equivalent: a range with one infinite end fails NumPy's edges and then the overflow check below, which gives the same empty edges",
    'network.plan:107':
        'equivalent: the backward pass converts upstream to the layer dtype where it uses it',
    'network.run_perturbed:34':
        'equivalent: p.X is X, or None and then the first run draws the same input from the same child stream',
    'network.run_perturbed:42':
        "equivalent: the second run's backward pass (on or off) changes none of the forward statistics it is run for",
    'network.run_perturbed:46':
        "equivalent: the second run's backward pass (on or off) changes none of the forward statistics it is run for",
    'network.run_perturbed:48':
        "equivalent: the second run's backward pass (on or off) changes none of the forward statistics it is run for",
    'network.run_perturbed:55':
        "left: float32 accumulation of a float32 layer's squares (NumPy's pairwise sum, relative error ~1e-7) moves the statistic below the tests' tolerance",
    'network.run_perturbed:57':
        "left: float32 accumulation of a float32 layer's squares (NumPy's pairwise sum, relative error ~1e-7) moves the statistic below the tests' tolerance",
    'network.run_perturbed:63':
        "left: float32 accumulation of a float32 layer's squares (NumPy's pairwise sum, relative error ~1e-7) moves the statistic below the tests' tolerance",
    'network.run_perturbed:65':
        "left: float32 accumulation of a float32 layer's squares (NumPy's pairwise sum, relative error ~1e-7) moves the statistic below the tests' tolerance",
    'network.run_perturbed:68':
        "left: float32 accumulation of a float32 layer's squares (NumPy's pairwise sum, relative error ~1e-7) moves the statistic below the tests' tolerance",
    'network.run_perturbed:70':
        "left: float32 accumulation of a float32 layer's squares (NumPy's pairwise sum, relative error ~1e-7) moves the statistic below the tests' tolerance",
    'network.run_perturbed:73':
        'equivalent: with zero norms the division gives NaN either way',
    'network.run_perturbed:77':
        "left: float32 accumulation of a float32 layer's squares (NumPy's pairwise sum, relative error ~1e-7) moves the statistic below the tests' tolerance",
    'network.run_perturbed:79':
        "left: float32 accumulation of a float32 layer's squares (NumPy's pairwise sum, relative error ~1e-7) moves the statistic below the tests' tolerance",
    'network.run_perturbed:82':
        'equivalent: with zero norms the division gives NaN either way',
    'predictions._input_second_moment:11':
        "left: float32 accumulation of a float32 layer's squares (NumPy's pairwise sum, relative error ~1e-7) moves the statistic below the tests' tolerance",
    'predictions._input_second_moment:9':
        "left: float32 accumulation of a float32 layer's squares (NumPy's pairwise sum, relative error ~1e-7) moves the statistic below the tests' tolerance",
    'predictions._jacobian_network:5':
        'equivalent: a prediction is made for square layers only, where every fan_in equals input_dim',
    'results.Propagation.__init__:3':
        'equivalent: no caller passes a LayerOutputs (the branch is for users constructing a Propagation)',
    'results.finding:48':
        'equivalent: at depth 1 the first layer is the last, and neither decays nor grows',
    'results.finding:55':
        'equivalent: at depth 1 the first layer is the last, and neither decays nor grows',
    'results.finding:57':
        'equivalent: a boundary no computed float meets (last std exactly 1.5x the first)',
    'results.layer_stats:21':
        'equivalent: both paths hand over int64 counts already',
    'results.layer_stats:23':
        'equivalent: both paths hand over int64 counts already',
    'sweep.result_files.ParquetFolder.write:5':
        'equivalent: a boundary no clock reading meets (exactly PART_SECONDS since the last part)',
    'sweep.result_files._csv_value:4':
        'equivalent: str of a float is its repr in Python 3',
    'sweep.result_files._format:17':
        "equivalent in what a reader sees: csv's default \\r\\n line end reads back the same (read_records, pandas); left: the file's bytes are not pinned",
    'sweep.result_files._parquet_bias:10':
        'equivalent: specs.bias of a float is the float',
    'sweep.result_files._parse_jsonl:3':
        "equivalent: None is setdefault's default",
    'sweep.result_files._read_parquet:25':
        "equivalent: None is setdefault's default",
    'sweep.result_files._suffix:8':
        'equivalent: stripping X as well changes no name that ends in .csv, .jsonl or .parquet',
    'sweep.result_files.check_out_path:10':
        'equivalent: stripping X as well changes no name that ends in .csv, .jsonl or .parquet',
    'sweep.result_files.check_out_path:6':
        'equivalent: abspath drops a trailing separator itself',
    'sweep.result_files.write_records:14':
        'equivalent: None is falsy, as the False it replaces',
    'theory._jacobian_layers:70':
        "equivalent: the slope reaches q only through leaky ReLU's second moment, and a piecewise-linear activation's phi'^2 does not depend on q",
    'theory._jacobian_layers:73':
        "equivalent: the slope reaches q only through leaky ReLU's second moment, and a piecewise-linear activation's phi'^2 does not depend on q",
}

rows, todo = [], []
for n in names:
    d = subprocess.run(["mutmut", "show", n], capture_output=True, text=True).stdout
    minus = [l[1:].strip() for l in d.splitlines() if l.startswith("-") and not l.startswith("---")]
    plus = [l[1:].strip() for l in d.splitlines() if l.startswith("+") and not l.startswith("+++")]
    before, after = " ".join(minus), " ".join(plus)
    fn = re.sub(r"__mutmut_\d+$", "", n).replace("fastinit.", "").replace("xǁ", "").replace("ǁ", ".").replace(".x_", ".")
    num = n.rsplit("_", 1)[-1]
    key = f"{fn}:{num}"
    reason = MANUAL.get(key)
    if reason is None:
        for fpat, apat, r in RULES:
            if re.search(fpat, fn) and re.search(apat, after):
                reason = r
                break
    if reason is None:
        todo.append((key, before, after))
        reason = "TODO"
    rows.append((fn, num, before[:100], after[:100], reason))
for key, before, after in todo:
    print("no reason:", key, before, "=>", after)
print(len(rows), "survivors;", len(todo), "without a reason")
with open(sys.argv[1], "w") as f:
    for r in rows:
        f.write("| `" + r[0] + "` | " + r[1] + " | `" + r[2].replace("|", "\\|").replace("`", "'") + "` | `" + r[3].replace("|", "\\|").replace("`", "'") + "` | " + r[4].replace("|", "\\|") + " |\n")
c = collections.Counter(r[4] for r in rows)
for k, v in c.most_common():
    print(v, k)
