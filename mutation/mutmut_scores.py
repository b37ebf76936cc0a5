"""Prints mutmut's score per module, with each mutant no test killed and the line it changed, from the results
mutmut keeps under mutants/ (`<module>.meta`: an exit code per mutant; `<module>.spans`: where each mutant's
copy of its function lies in the mutated file). Killed and timed-out mutants count as killed; survivors and
mutants no selected test reaches ("no tests") as not, as in mutation/scores.ts."""

from __future__ import annotations

import json
import sys
from os.path import commonprefix
from pathlib import Path

KILLED = {1: "killed", 3: "killed", 36: "timeout", 24: "timeout", -24: "timeout", 152: "timeout", 255: "timeout"}
NOT_KILLED = {0: "survived", 5: "no tests", 33: "no tests"}


def changed_line(source: list[str], spans: dict[str, list[int]], key: str) -> str:
    """Where the mutant's copy of its function first differs from the original, as `old -> new`."""
    function, _, _ = key.rpartition("__mutmut_")
    if key not in spans or f"{function}__mutmut_orig" not in spans:
        return ""
    orig = f"{function}__mutmut_orig"
    (o0, o1), (m0, m1) = spans[orig], spans[key]
    for line, new in zip(source[o0:o1], source[m0:m1], strict=False):
        old = line.replace(orig, key)
        if old != new:  # the changed part, with the 30 characters before it
            start = len(commonprefix([old, new]))
            end = len(commonprefix([old[start:][::-1], new[start:][::-1]]))
            before = max(start - 30, 0)
            return f"{old[before:len(old) - end].lstrip()!r} -> {new[before:len(new) - end].lstrip()!r}"
    return ""


def score_lines(mutants: Path, modules: list[str]) -> list[str]:
    lines = []
    for module in modules:
        meta = json.loads((mutants / f"{module}.meta").read_text())["exit_code_by_key"]
        spans_file = mutants / f"{module}.spans"
        spans = json.loads(spans_file.read_text())["spans"] if spans_file.exists() else {}
        source = (mutants / module).read_text().splitlines()
        judged = {k: c for k, c in meta.items() if c in KILLED or c in NOT_KILLED}
        killed = sum(1 for c in judged.values() if c in KILLED)
        score = 100 * killed / len(judged) if judged else 100
        lines.append(f"{score:5.1f}%  {killed}/{len(judged)} killed  {module}")
        for key, code in sorted(judged.items()):
            if code in NOT_KILLED:
                short = key.rpartition(".")[2]
                lines.append(f"         {NOT_KILLED[code]} {module} {short} {changed_line(source, spans, short)}")
    return lines


if __name__ == "__main__":
    print("\n".join(score_lines(Path("mutants"), sys.argv[1:])))
