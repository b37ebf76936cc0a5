"""Which access-log URL patterns the streaming job runs: the subset in which no URL can make Java's
backtracking matcher run for long. The same rules as contract/urlPatterns.ts (the config check), tested
against the same examples (contract/url-patterns.json); docs/access-logs.md lists the syntax.

Refused: backreferences, lookaround, inline flags, possessive quantifiers, letter escapes other than
\\d \\D \\w \\W \\s \\S \\b \\B; a repeated group holding a repetition, a group or an alternation; a repetition of
varying count that can also match a character that may follow it, unless it is the pattern's last one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

CLASS_ESCAPES, ANCHOR_ESCAPES = "dDwWsS", "bB"
# Characters tried against two atoms to tell whether they can match the same character.
PROBES = [chr(c) for c in range(0x20, 0x7F)] + ["\t", "\u00a0", "é", "€"]
_QUANTIFIER = re.compile(r"(?:([*+?])|\{(\d{1,4})(?:(,)(\d{1,4})?)?\})([?+]?)")
_INFINITY = float("inf")
_SPECIAL = set("*+?^${}()|[]\\/")  # escaped when shown, as contract/urlPatterns.ts shows them


class Refused(ValueError):
    pass


@dataclass
class Node:
    kind: str  # atom, anchor or group
    source: str = ""
    alternatives: list[list[Node]] = field(default_factory=list)
    min: float = 1
    max: float = 1


def _parse(pattern: str) -> list[list[Node]]:
    i = 0

    def quantified(node: Node) -> Node:
        nonlocal i
        m = _QUANTIFIER.match(pattern, i)
        if not m:
            return node
        if m[5] == "+":
            raise Refused("possessive quantifiers are not accepted")
        i = m.end()
        lo = 1 if m[1] == "+" else 0 if m[1] else int(m[2])
        hi = 1 if m[1] == "?" else _INFINITY if m[1] else (_INFINITY if m[4] is None else int(m[4])) if m[3] else lo
        if hi < lo:
            raise Refused(f"the quantifier {m[0]} has its bounds reversed")
        node.min, node.max = lo, hi
        return node

    def class_end(start: int) -> int:
        j = start + 1 + (pattern[start + 1:start + 2] == "^")
        while j < len(pattern):
            if pattern[j] == "\\":
                j += 1
            elif pattern[j] == "[":
                raise Refused("a class inside a class is not accepted")
            elif pattern[j] == "]":
                return j + 1
            j += 1
        raise Refused("a character class is not closed")

    def alternatives() -> list[list[Node]]:
        nonlocal i
        alts: list[list[Node]] = [[]]
        while i < len(pattern) and pattern[i] != ")":
            c, seq = pattern[i], alts[-1]
            if c == "|":
                alts.append([])
                i += 1
            elif c == "(":
                i += 1
                named = re.match(r"\?<[A-Za-z][A-Za-z0-9_]*>", pattern[i:])
                if pattern.startswith("?:", i):
                    i += 2
                elif named:
                    i += named.end()
                elif pattern[i:i + 1] == "?":
                    raise Refused("lookaround, inline flags and other (? groups are not accepted")
                inner = alternatives()
                if pattern[i:i + 1] != ")":
                    raise Refused("a group is not closed")
                i += 1
                seq.append(quantified(Node("group", alternatives=inner)))
            elif c in "^$":
                seq.append(Node("anchor"))
                i += 1
            elif c == "[":
                start, i = i, class_end(i)
                seq.append(quantified(Node("atom", pattern[start:i])))
            elif c == "\\":
                e = pattern[i + 1:i + 2]
                if not e:
                    raise Refused("the pattern ends with a backslash")
                i += 2
                if e in ANCHOR_ESCAPES:
                    seq.append(Node("anchor"))
                elif e not in CLASS_ESCAPES and e.isascii() and e.isalnum():
                    raise Refused(f"the escape \\{e} is not accepted "
                                  "(backreferences and letter escapes other than \\d \\w \\s \\b)")
                else:
                    seq.append(quantified(Node("atom", "\\" + e)))
            elif c in "*+?{":
                raise Refused(f"the quantifier {c} repeats nothing")
            else:
                i += 1
                seq.append(quantified(Node("atom", "\\" + c if c in _SPECIAL else c)))
        return alts

    top = alternatives()
    if i < len(pattern):
        raise Refused("a ) closes no group")
    return top


def _matches(atom: str, c: str) -> bool:
    return re.fullmatch(f"(?:{atom})", c) is not None


def _overlap(a: str, b: str) -> bool:
    return any(_matches(a, c) and _matches(b, c) for c in PROBES)


def _atoms_in(node: Node) -> list[str]:
    if node.kind == "atom":
        return [node.source]
    return [a for alt in node.alternatives for n in alt for a in _atoms_in(n)]


def _firsts(node: Node) -> tuple[list[str], bool]:
    if node.kind == "anchor":
        return [], True
    if node.kind == "atom":
        return [node.source], node.min == 0
    parts = [_firsts_of(alt) for alt in node.alternatives]
    return [a for atoms, _ in parts for a in atoms], node.min == 0 or any(nullable for _, nullable in parts)


def _firsts_of(seq: list[Node]) -> tuple[list[str], bool]:
    atoms: list[str] = []
    for node in seq:
        first, nullable = _firsts(node)
        atoms += first
        if not nullable:
            return atoms, False
    return atoms, True


@dataclass
class _Place:
    seq: list[Node]
    index: int
    parent: tuple[Node, _Place] | None


def _follows(place: _Place) -> list[str]:
    atoms, nullable = _firsts_of(place.seq[place.index + 1:])
    if not nullable or place.parent is None:
        return atoms
    group, outer = place.parent
    again = [a for alt in group.alternatives for a in _firsts_of(alt)[0]] if group.max > 1 else []
    return atoms + again + _follows(outer)


def _varying(alts: list[list[Node]], parent: tuple[Node, _Place] | None = None) -> list[tuple[Node, _Place]]:
    found = []
    for seq in alts:
        for index, node in enumerate(seq):
            place = _Place(seq, index, parent)
            if node.kind == "group":
                inner = [n for alt in node.alternatives for n in alt]
                if node.max > 1 and (len(node.alternatives) > 1
                                     or any(n.kind == "group" or n.max > 1 for n in inner if n.kind != "anchor")):
                    raise Refused("a repeated group may not hold a repetition, a group or an alternation "
                                  "(nested quantifiers)")
                if node.max > node.min:
                    found.append((node, place))
                found += _varying(node.alternatives, (node, place))
            elif node.kind == "atom" and node.max > node.min:
                found.append((node, place))
    return found


def url_pattern_problem(pattern: str) -> str | None:
    """Why a URL pattern is refused (one clause), or None when it is accepted."""
    try:
        for node, place in _varying(_parse(pattern))[:-1]:
            following = _follows(place)
            for atom in _atoms_in(node):
                clash = next((n for n in following if _overlap(atom, n)), None)
                if clash is not None:
                    raise Refused(f"the repetition of {atom} can also match the {clash} that may follow it, and "
                                  "another repetition comes later, so a long URL makes the matcher backtrack for "
                                  "seconds")
    except Refused as refused:
        return str(refused)
    return None
