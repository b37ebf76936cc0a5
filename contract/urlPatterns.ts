// Which access-log URL patterns the pipeline runs: the subset of the regular-expression syntax Java and
// JavaScript share in which no URL can make a backtracking matcher (Java's, in Spark) run for long.
// jobs/access_log.py applies the same rules (url_pattern_problem); contract/url-patterns.json holds the
// examples both are tested against.
//   accepted: literals and escaped punctuation, . \d \D \w \W \s \S, classes [...] and [^...], ^ $ \b,
//             groups (...), (?:...), (?<name>...), alternation |, quantifiers ? * + {n} {n,} {n,m}, lazy ?
//   refused:  backreferences, lookaround, inline flags, possessive quantifiers, other escapes; a repeated
//             group that holds a repetition, a group or an alternation (nested quantifiers); a repetition
//             of varying count (? * + {n,m}) that can also match a character that may come right after it,
//             unless it is the pattern's last such repetition: ".*-.*" backtracks polynomially on a long
//             URL and "a?a?a?aaa" exponentially, while in "[^-]*-.*" every character has one place.

interface Quantifier {
  min: number;
  max: number;
}
type PatternNode =
  | { kind: "atom"; source: string; quantifier?: Quantifier }
  | { kind: "anchor" }
  | { kind: "group"; alternatives: PatternNode[][]; quantifier?: Quantifier };

class Refused extends Error {}

const CLASS_ESCAPES = "dDwWsS";
const ANCHOR_ESCAPES = "bB";

function parse(pattern: string): PatternNode[][] {
  let i = 0;
  const alternatives = (): PatternNode[][] => {
    const alts: PatternNode[][] = [[]];
    while (i < pattern.length && pattern[i] !== ")") {
      const c = pattern[i];
      const seq = alts[alts.length - 1];
      if (c === "|") {
        alts.push([]);
        i++;
      } else if (c === "(") {
        i++;
        if (pattern.startsWith("?:", i)) i += 2;
        else if (/^\?<[A-Za-z][A-Za-z0-9_]*>/.test(pattern.slice(i))) i = pattern.indexOf(">", i) + 1;
        else if (pattern[i] === "?") throw new Refused("lookaround, inline flags and other (? groups are not accepted");
        const inner = alternatives();
        if (pattern[i] !== ")") throw new Refused("a group is not closed");
        i++;
        seq.push(quantified({ kind: "group", alternatives: inner }));
      } else if (c === "^" || c === "$") {
        seq.push({ kind: "anchor" });
        i++;
      } else if (c === "[") {
        const start = i;
        i = classEnd(i);
        seq.push(quantified({ kind: "atom", source: pattern.slice(start, i) }));
      } else if (c === "\\") {
        const e = pattern[i + 1];
        if (e === undefined) throw new Refused("the pattern ends with a backslash");
        if (ANCHOR_ESCAPES.includes(e)) {
          seq.push({ kind: "anchor" });
        } else if (!CLASS_ESCAPES.includes(e) && /[A-Za-z0-9]/.test(e)) {
          throw new Refused(
            `the escape \\${e} is not accepted (backreferences and letter escapes other than \\d \\w \\s \\b)`,
          );
        } else {
          i += 2;
          seq.push(quantified({ kind: "atom", source: `\\${e}` }));
          continue;
        }
        i += 2;
      } else if ("*+?{".includes(c)) {
        throw new Refused(`the quantifier ${c} repeats nothing`);
      } else {
        i++;
        seq.push(quantified({ kind: "atom", source: c === "." ? "." : c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&") }));
      }
    }
    return alts;
  };
  const classEnd = (start: number): number => {
    let j = start + 1;
    if (pattern[j] === "^") j++;
    for (; j < pattern.length; j++) {
      if (pattern[j] === "\\") j++;
      else if (pattern[j] === "[") throw new Refused("a class inside a class is not accepted");
      else if (pattern[j] === "]") return j + 1;
    }
    throw new Refused("a character class is not closed");
  };
  const quantified = <T extends PatternNode & { quantifier?: Quantifier }>(node: T): T => {
    const m = /^(?:([*+?])|\{(\d{1,4})(?:(,)(\d{1,4})?)?\})([?+]?)/.exec(pattern.slice(i));
    if (!m) return node;
    if (m[5] === "+") throw new Refused("possessive quantifiers are not accepted");
    i += m[0].length;
    const min = m[1] === "+" ? 1 : m[1] ? 0 : Number(m[2]);
    const max = m[1] === "?" ? 1 : m[1] ? Infinity : m[3] ? (m[4] === undefined ? Infinity : Number(m[4])) : min;
    if (max < min) throw new Refused(`the quantifier ${m[0]} has its bounds reversed`);
    return { ...node, quantifier: { min, max } };
  };
  const top = alternatives();
  if (i < pattern.length) throw new Refused("a ) closes no group");
  return top;
}

const varies = (q?: Quantifier): boolean => q !== undefined && q.max > q.min;
const repeats = (q?: Quantifier): boolean => q !== undefined && q.max > 1;

/** Characters tried against two atoms to tell whether they can match the same character. */
const PROBES = [
  ...Array.from({ length: 0x7f - 0x20 }, (_, k) => String.fromCharCode(0x20 + k)),
  "\t",
  "\u00a0",
  "é",
  "€",
];

function overlap(a: string, b: string): boolean {
  const ra = new RegExp(`^(?:${a})$`);
  const rb = new RegExp(`^(?:${b})$`);
  return PROBES.some((c) => ra.test(c) && rb.test(c));
}

/** Every atom a node holds: the characters a repetition of it can consume. */
function atomsIn(node: PatternNode): string[] {
  if (node.kind === "atom") return [node.source];
  return node.kind === "group" ? node.alternatives.flat().flatMap(atomsIn) : [];
}

/** What can come first in a node: its atoms, and whether it can match nothing. */
function firsts(node: PatternNode): { atoms: string[]; nullable: boolean } {
  if (node.kind === "anchor") return { atoms: [], nullable: true };
  if (node.kind === "atom") return { atoms: [node.source], nullable: node.quantifier?.min === 0 };
  const parts = node.alternatives.map(firstsOfSequence);
  return {
    atoms: parts.flatMap((p) => p.atoms),
    nullable: node.quantifier?.min === 0 || parts.some((p) => p.nullable),
  };
}

function firstsOfSequence(seq: PatternNode[]): { atoms: string[]; nullable: boolean } {
  const atoms: string[] = [];
  for (const node of seq) {
    const f = firsts(node);
    atoms.push(...f.atoms);
    if (!f.nullable) return { atoms, nullable: false };
  }
  return { atoms, nullable: true };
}

interface Place {
  seq: PatternNode[];
  index: number;
  parent?: { node: PatternNode & { kind: "group" }; place: Place };
}

/** The atoms that can match right after the node at `place` (climbing out of groups, into a repeat). */
function follows(place: Place): string[] {
  const rest = firstsOfSequence(place.seq.slice(place.index + 1));
  if (!rest.nullable || !place.parent) return rest.atoms;
  const again = repeats(place.parent.node.quantifier)
    ? firsts({ ...place.parent.node, quantifier: undefined }).atoms
    : [];
  return [...rest.atoms, ...again, ...follows(place.parent.place)];
}

/** Every repetition of varying count in order, with its place; refuses nested repetitions on the way. */
function repetitions(
  alts: PatternNode[][],
  parent?: Place["parent"],
  found: { node: PatternNode; place: Place }[] = [],
) {
  for (const seq of alts) {
    seq.forEach((node, index) => {
      const place = { seq, index, parent };
      if (node.kind === "group") {
        if (repeats(node.quantifier)) {
          const inner = node.alternatives.flat();
          if (
            node.alternatives.length > 1 ||
            inner.some((n) => (n.kind !== "anchor" && (n.quantifier?.max ?? 1) > 1) || n.kind === "group")
          ) {
            throw new Refused(
              "a repeated group may not hold a repetition, a group or an alternation (nested quantifiers)",
            );
          }
        }
        if (varies(node.quantifier)) found.push({ node, place });
        repetitions(node.alternatives, { node, place }, found);
      } else if (node.kind === "atom" && varies(node.quantifier)) {
        found.push({ node, place });
      }
    });
  }
  return found;
}

/** Why a URL pattern is refused (one clause), or undefined when it is accepted. */
export function urlPatternProblem(pattern: string): string | undefined {
  try {
    const varying = repetitions(parse(pattern));
    for (const { node, place } of varying.slice(0, -1)) {
      const next = follows(place);
      const atom = atomsIn(node).find((a) => next.some((n) => overlap(a, n)));
      const clash = atom === undefined ? undefined : next.find((n) => overlap(atom, n));
      if (clash !== undefined) {
        throw new Refused(
          `the repetition of ${atom} can also match the ${clash} that may follow it, and another repetition comes later, so a long URL makes the matcher backtrack for seconds`,
        );
      }
    }
    return undefined;
  } catch (err) {
    if (err instanceof Refused) return err.message;
    throw err;
  }
}
