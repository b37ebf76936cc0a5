"""mutmut's score per module: killed and timed-out mutants over every judged one, survivors listed with the
part of the line they changed."""

from __future__ import annotations

import json

from mutation.mutmut_scores import score_lines

# A mutated module as mutmut writes it: the original function and one copy per mutant, located by .spans.
SOURCE = """\
def x_f__mutmut_orig(a):
    return a + 1
def x_f__mutmut_1(a):
    return a - 1
def x_f__mutmut_2(a):
    return a + 2
def x_f__mutmut_3(a):
    return None
"""


def test_scores_each_module_on_its_judged_mutants_and_shows_what_each_survivor_changed(tmp_path):
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs/m.py").write_text(SOURCE)
    spans = {"x_f__mutmut_orig": [0, 2], "x_f__mutmut_1": [2, 4], "x_f__mutmut_2": [4, 6], "x_f__mutmut_3": [6, 8]}
    (tmp_path / "jobs/m.py.spans").write_text(json.dumps({"version": 1, "spans": spans}))
    codes = {"jobs.m.x_f__mutmut_1": 1, "jobs.m.x_f__mutmut_2": 0, "jobs.m.x_f__mutmut_3": 33,
             "jobs.m.x_f__mutmut_4": 36, "jobs.m.x_f__mutmut_5": None}
    (tmp_path / "jobs/m.py.meta").write_text(json.dumps({"exit_code_by_key": codes}))

    assert score_lines(tmp_path, ["jobs/m.py"]) == [
        " 50.0%  2/4 killed  jobs/m.py",
        "         survived jobs/m.py x_f__mutmut_2 'return a + 1' -> 'return a + 2'",
        "         no tests jobs/m.py x_f__mutmut_3 'return a + 1' -> 'return None'",
    ]
