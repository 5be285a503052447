#!/usr/bin/env python
"""Rebuild math_verify_cases.json: the (gold, prediction, expected) cases of Math-Verify's own test suite.

    python tests/evaluate/data/make_math_verify_cases.py GIT_DIR [COMMIT] > tests/evaluate/data/math_verify_cases.json

GIT_DIR is a clone of github.com/huggingface/Math-Verify (a bare one works: files are read with
``git show COMMIT:tests/<file>``). The cases are read with ``ast`` (no test code is run or copied):
every ``pytest.mark.parametrize`` list of a test that calls ``compare_strings`` or ``verify``, and the
literal ``compare_strings(...) == N`` assertions, with the settings the test passes (extraction
targets, float precision, strict, set/relation comparison). Each case also records the verdict of the
installed math-verify under those settings (``math_verify_0_9_0``), so our tests compare against it
without re-running math-verify's 270 parses.
"""

from __future__ import annotations

import ast
import json
import logging
import math
import subprocess
import sys

COMMIT = "5d148cfaaf99214c2e4ffb4bc497ab042c592a7a"  # v0.8.0 released + PR #45 (2025-07-02), the newest snapshot
FILES = ("test_all.py", "test_boxed.py", "test_numina_cases.py", "test_open_thoughts.py", "test_strict.py",
         "test_yujianll.py")
SETTINGS = ("match_types", "precision", "strict", "allow_set_relation_comp")


def _value(node):
    return eval(compile(ast.Expression(node), "<case>", "eval"), {"math": math})  # literals and f"{math.sqrt(17)}"


def _settings(func: ast.FunctionDef) -> tuple[str | None, dict]:
    out = {"match_types": ["latex", "expr"], "precision": 6, "strict": True, "allow_set_relation_comp": False}
    helper = None
    for node in ast.walk(func):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("compare_strings", "verify"):
            helper = node.func.id
            for kw in node.keywords:
                if kw.arg in SETTINGS:
                    try:
                        out[kw.arg] = ast.literal_eval(kw.value)
                    except ValueError:
                        out[kw.arg] = ("param", ast.unparse(kw.value))
    if helper == "verify":  # verify(parse(gold), parse(pred)): parse's own default targets
        out["match_types"] = ["latex_default", "expr"]
    return helper, out


def cases(name: str, source: str):
    tree = ast.parse(source)
    for func in tree.body:
        if not isinstance(func, ast.FunctionDef):
            continue
        helper, settings = _settings(func)
        for dec in func.decorator_list:
            if not (isinstance(dec, ast.Call) and ast.unparse(dec.func).endswith("parametrize")) or helper is None:
                continue
            names = [n.strip() for n in ast.literal_eval(dec.args[0]).split(",")]
            for elt in dec.args[1].elts:
                values = dict(zip(names, _value(elt)))
                row = {"file": name, "test": func.name, "gold": values["gold"], "pred": values["pred"],
                       "expected": int(values.get("expected", values.get("result")))}
                for key, v in settings.items():
                    row[key] = values[v[1]] if isinstance(v, tuple) else v
                yield row
        if func.decorator_list:
            continue
        for node in ast.walk(func):  # assert compare_strings(gold, pred, ...) == N
            if (isinstance(node, ast.Compare) and isinstance(node.left, ast.Call)
                    and getattr(node.left.func, "id", None) == "compare_strings"):
                call = node.left
                row = {"file": name, "test": func.name, "gold": ast.literal_eval(call.args[0]),
                       "pred": ast.literal_eval(call.args[1]), "expected": ast.literal_eval(node.comparators[0]),
                       **{k: v for k, v in settings.items()}}
                row.update({kw.arg: ast.literal_eval(kw.value) for kw in call.keywords if kw.arg in SETTINGS})
                yield row


def math_verify_verdict(row: dict) -> int:
    from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse, verify

    targets = {"latex": LatexExtractionConfig(boxed_match_priority=0), "latex_default": LatexExtractionConfig(),
               "expr": ExprExtractionConfig()}
    config = [targets[m] for m in row["match_types"]]
    return int(verify(parse(row["gold"], config), parse(row["pred"], config), float_rounding=row["precision"],
                      strict=row["strict"], allow_set_relation_comp=row["allow_set_relation_comp"]))


def main() -> None:
    git_dir, commit = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else COMMIT
    logging.disable(logging.WARNING)
    rows = []
    for name in FILES:
        source = subprocess.run(["git", "--git-dir", git_dir, "show", f"{commit}:tests/{name}"],
                                capture_output=True, text=True, check=True).stdout
        rows.extend(cases(name, source))
    for row in rows:
        row["math_verify_0_9_0"] = math_verify_verdict(row)
    doc = {"source": {"repo": "huggingface/Math-Verify", "commit": commit,
                      "files": [f"tests/{n}" for n in FILES], "license": "Apache-2.0 (repository LICENCE; tests/test_all.py carries an MIT header)",
                      "how": "tests/evaluate/data/make_math_verify_cases.py"},
           "cases": rows}
    json.dump(doc, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
