#!/usr/bin/env python
"""Rebuild evalscope_cases.json: what evalscope v1.4.2's own code answers on a set of inputs.

    python tests/evaluate/data/make_evalscope_cases.py GIT_DIR > tests/evaluate/data/evalscope_cases.json

GIT_DIR is a clone of github.com/modelscope/evalscope (bare works); the two source files are read
at tag v1.4.2 (commit 457dc8cb) with ``git show`` and executed from a temporary directory (nothing of
evalscope is copied into this repository). Needs ``word2number``, ``latex2sympy2_extended`` and sympy,
as evalscope does. Inputs:

* evalscope's own examples (the ``__main__`` block of ``evalscope/metrics/math_parser.py``);
* every (gold, prediction) pair of Math-Verify's test suite (math_verify_cases.json): the prediction as
  a completion, the gold as the target;
* our own GSM8K-style, adversarial and multiple-choice completions (:data:`OWN_MATH`, :data:`OWN_CHOICE`).

Recorded per math case: ``extract_answer(completion)``, ``strip_answer_string(target)`` and
``math_equal`` of the two (the ``acc`` metric with ``numeric: True``); per choice case the letters of
``parse_answers`` and the ``acc`` verdict. A comparison that runs past 10 s is left out.
"""

from __future__ import annotations

import ast
import json
import signal
import subprocess
import sys
import tempfile
import types
from pathlib import Path

TAG, COMMIT = "v1.4.2", "457dc8cbc2539aca173b4a71bcb29e352804d4af"
HERE = Path(__file__).resolve().parent

OWN_MATH = [  # (completion, target)
    ("Natalia sold 48/2 = 24 clips in May.\nNatalia sold 48+24 = 72 clips altogether.\n#### 72", "72"),
    ("The total is 125,96.\n#### 125,96", "125"),
    ("So she has 10 left.\n#### 10.", "10"),
    ("5 cars drove through in the first 15 minutes.", "5"),
    ("5 cars drove through in the first 15 minutes.", "15"),
    ("The answer is 18 dollars.", "18"),
    ("The answer is $18.", "18"),
    ("The answer is \\boxed{1,234}.", "1234"),
    ("Therefore the answer is \\boxed{70,\\!000}.", "70000"),
    ("We get \\boxed{\\frac{1}{2}}.", "0.5"),
    ("We get \\boxed{0.5}.", "\\frac{1}{2}"),
    ("We get \\boxed{50\\%}.", "0.5"),
    ("We get \\boxed{2} or \\boxed{3}.", "3"),
    ("We get \\boxed{2, 3}.", "3, 2"),
    ("We get \\boxed{x \\neq 5}.", "5"),
    ("We find that $x < 3$.", "3"),
    ("so \\boxed{x = 5}", "5"),
    ("so \\boxed{(1, 2)}", "(1,2)"),
    ("so \\boxed{[1, 2)}", "(1,2)"),
    ("so \\boxed{\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}}", "\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}"),
    ("so \\boxed{\\sqrt{2}/2}", "\\frac{\\sqrt{2}}{2}"),
    ("so \\boxed{x^2+2x+1}", "(x+1)^2"),
    ("so \\boxed{five}", "5"),
    ("The final answer is $\\frac{3}{4}$. I hope it is correct.", "0.75"),
    ("the final answer is 42", "42"),
    ("ANSWER: 17", "17"),
    ("答案是 8\n\n其他", "8"),
    ("truncated \\boxed{12", "12"),
    ("I do not know.", "3"),
    ("", "3"),
    ("so \\boxed{4.5 \\times 10^{33}}", "4.5e33"),
    ("so \\boxed{4.5e33}", "4.5e33"),
    ("so \\boxed{20.39}", "20.4"),
    ("so \\boxed{90^\\circ}", "90"),
    ("so \\boxed{\\text{(C)}}", "C"),
    ("so \\boxed{\\infty}", "\\infty"),
    ("so \\boxed{\\$32,\\!348}", "32348"),
    ("<think>\\boxed{1}</think> so \\boxed{2}", "2"),
]
OWN_CHOICE = [  # (completion, gold letter, number of options)
    ("Let me think step by step.\nANSWER: C", "C", 4),
    ("ANSWER: c", "C", 4),
    ("The answer is (B).", "B", 4),
    ("Thinking...\nANSWER: A\nWait, actually ANSWER: B", "A", 4),
    ("I think it is B. ANSWER: E", "E", 4),
    ("answer: D.", "D", 4),
    ("no letters here", "A", 4),
    ("ANSWER: A, B", "A", 4),
    ("Reasoning about Option D in detail", "D", 4),
]


def _load(git_dir: str):
    def show(path):
        return subprocess.run(["git", "--git-dir", git_dir, "show", f"{TAG}:{path}"], capture_output=True,
                              text=True, check=True).stdout

    tmp = Path(tempfile.mkdtemp())
    (tmp / "es_math_parser.py").write_text(show("evalscope/metrics/math_parser.py"))
    sys.path.insert(0, str(tmp))
    import es_math_parser as mp

    # parse_answers and its helpers, without the rest of evalscope (their module imports evalscope.api).
    tree = ast.parse(show("evalscope/utils/multi_choices.py"))
    wanted = {"_fallback_parse_answer", "parse_answers", "answer_character"}
    code = ast.Module([n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in wanted], [])
    ns = {"re": __import__("re"), "Optional": __import__("typing").Optional, "TaskState": object}
    exec(compile(code, "multi_choices.py", "exec"), ns)
    return mp, ns["parse_answers"]


def _with_alarm(fn, *args):
    def stop(*_):
        raise TimeoutError

    signal.signal(signal.SIGALRM, stop)
    signal.alarm(10)
    try:
        return fn(*args)
    finally:
        signal.alarm(0)


def main() -> None:
    mp, parse_answers = _load(sys.argv[1])
    math_cases = [{"source": "evalscope __main__", "completion": "The answer is \\boxed{70,\\!000}", "target": "70000"},
                  {"source": "evalscope __main__", "completion": "\n\\boxed{70,\\!000}\n", "target": "70000",
                   "direct": True}]
    suite = json.loads((HERE / "math_verify_cases.json").read_text())["cases"]
    math_cases += [{"source": f"Math-Verify {c['file']}::{c['test']}", "completion": c["pred"], "target": c["gold"]}
                   for c in suite]
    math_cases += [{"source": "own", "completion": c, "target": t} for c, t in OWN_MATH]
    out_math = []
    for case in math_cases:
        try:
            if case.get("direct"):  # evalscope's example: math_equal on the raw prediction
                extracted, reference = case["completion"], case["target"]
            else:
                extracted, reference = mp.extract_answer(case["completion"]), mp.strip_answer_string(case["target"])
            correct = _with_alarm(mp.math_equal, extracted, reference)
        except TimeoutError:
            continue
        out_math.append({**case, "extracted": extracted, "reference": reference, "correct": bool(correct)})
    out_choice = []
    for completion, gold, n in OWN_CHOICE:
        state = types.SimpleNamespace(output=types.SimpleNamespace(completion=completion), choices=[None] * n)
        letters = "".join(sorted(parse_answers(state)))
        out_choice.append({"completion": completion, "gold": gold, "n_choices": n, "parsed": letters,
                           "correct": letters.strip().lower() == gold.strip().lower()})
    doc = {"source": {"repo": "modelscope/evalscope", "tag": TAG, "commit": COMMIT,
                      "files": ["evalscope/metrics/math_parser.py", "evalscope/utils/multi_choices.py"],
                      "how": "tests/evaluate/data/make_evalscope_cases.py (outputs of evalscope's code)"},
           "math": out_math, "choice": out_choice}
    json.dump(doc, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
