// The conventions every command-line tool here shares (the sandbox, the generator, the broker tool): one
// option table drives both parsing (node:util parseArgs) and --help; a usage error is one sentence and
// exit 2; times are ISO 8601 / RFC 3339, an hour alone included; bold only on a terminal without
// NO_COLOR; a reader that goes away (`| head`) is a normal end.
import { parseArgs } from "node:util";

/** The exit status of every usage error, in every tool. */
export const USAGE_EXIT = 2;

export class UsageError extends Error {}

export interface OptionSpec {
  /** the value's placeholder in --help (e.g. "N"); absent: a switch, which takes no value */
  value?: string;
  short?: string;
  /** what it does, in one or more lines, with its default */
  help: string;
  /** the commands that take it (absent: every command); any other command refuses it */
  commands?: readonly string[];
}

export type OptionTable = Record<string, OptionSpec>;

export interface CommandLineSpec {
  options: OptionTable;
  /** the tool's commands (the first word); absent: the tool has none */
  commands?: readonly string[];
  /** the command when none is given (absent: one must be given) */
  defaultCommand?: string;
  /** the commands that take operands after their options (e.g. files) */
  takeOperands?: readonly string[];
}

export interface CommandLine {
  command?: string;
  /** the options given, by name: a string for a value, true for a switch */
  values: Record<string, string | true | undefined>;
  operands: string[];
  help: boolean;
}

/** parseArgs's own messages, in one sentence naming the option. */
function usageErrorOf(e: Error & { code?: string }): UsageError {
  const option = /'(-[^' ]*)/.exec(e.message)?.[1] ?? "";
  if (e.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") return new UsageError(`unknown option '${option}' (see --help)`);
  if (e.code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL")
    return new UsageError(`unexpected argument '${/'([^']*)'/.exec(e.message)?.[1]}' (see --help)`);
  if (/does not take an argument/.test(e.message)) return new UsageError(`${option} takes no value`);
  if (/ambiguous/.test(e.message))
    return new UsageError(`${option} needs a value (a value that starts with '-' is written ${option}=VALUE)`);
  if (/argument missing/.test(e.message)) return new UsageError(`${option} needs a value`);
  return new UsageError(e.message.split("\n")[0]);
}

/** Parses argv against the table: unknown flags, flags of another command and stray words are usage errors. */
export function parseCommandLine(spec: CommandLineSpec, argv: readonly string[]): CommandLine {
  const args = [...argv];
  if (args.includes("-h") || args.includes("--help")) return { values: {}, operands: [], help: true };
  let command: string | undefined;
  if (spec.commands) {
    if (args[0] !== undefined && !args[0].startsWith("-")) {
      command = args.shift() as string;
      if (!spec.commands.includes(command))
        throw new UsageError(`unknown command '${command}' (the commands are ${spec.commands.join(", ")})`);
    } else if (spec.defaultCommand) command = spec.defaultCommand;
    else throw new UsageError(`a command is needed first: ${spec.commands.join(", ")} (see --help)`);
  }
  // A word with a space in it is no flag, even when it starts with "-" (SQL opening with a "-- comment").
  const words = args.filter((a) => /^-.*\s/s.test(a));
  const flags = args.filter((a) => !words.includes(a));
  const options = Object.fromEntries(
    Object.entries(spec.options).map(([name, o]) => [
      name,
      { type: o.value ? ("string" as const) : ("boolean" as const), ...(o.short ? { short: o.short } : {}) },
    ]),
  );
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args: flags, options, strict: true, allowPositionals: true });
  } catch (e) {
    throw usageErrorOf(e as Error);
  }
  const operands = [...parsed.positionals, ...words];
  if (operands.length > 0 && !(command !== undefined && spec.takeOperands?.includes(command))) {
    throw new UsageError(`unexpected argument '${operands[0]}'${command ? ` for ${command}` : ""} (see --help)`);
  }
  for (const name of Object.keys(parsed.values)) {
    const only = spec.options[name].commands;
    if (only && command !== undefined && !only.includes(command))
      throw new UsageError(`--${name} is an option of ${only.join(" and ")}, not of ${command} (see --help)`);
  }
  return { command, values: parsed.values as CommandLine["values"], operands, help: false };
}

/** The options section of --help, from the same table. */
export function optionsHelp(table: OptionTable): string {
  const rows: [string, string][] = Object.entries(table).map(([name, o]) => [
    `${o.short ? `-${o.short}, ` : ""}--${name}${o.value ? ` ${o.value}` : ""}`,
    `${o.commands ? `${o.commands.join(", ")}: ` : ""}${o.help}`,
  ]);
  rows.push(["-h, --help", "this text"]);
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  return rows
    .map(([left, help]) => `  ${left.padEnd(width)}${help.split("\n").join(`\n  ${" ".repeat(width)}`)}`)
    .join("\n");
}

const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2})(?::(\d{2})(?::(\d{2})(\.\d+)?)?)?(Z|[+-]\d{2}:\d{2})?$/i;
const HOUR_MS = 3_600_000;

/**
 * An ISO 8601 / RFC 3339 time as epoch ms: 2026-03-01T10 (an hour), 2026-03-01T10:05, 2026-03-01T10:05:30.5Z,
 * 2026-03-01T11:05:00+01:00; without an offset it is UTC. `hour`: it must be a whole UTC hour.
 */
export function parseIsoTime(flag: string, text: string, kind: "hour" | "time"): number {
  const m = ISO_TIME.exec(text);
  const what =
    kind === "hour"
      ? "a UTC hour like 2026-03-01T10 or 2026-03-01T10:00:00Z"
      : "an ISO time like 2026-03-01T10:05:00Z (or an hour alone, 2026-03-01T10)";
  const fail = () => new UsageError(`${flag} must be ${what}, got '${text}'`);
  if (!m) throw fail();
  const [, y, mo, d, h, mi = "00", s = "00", fraction = "", offset = "Z"] = m;
  const local = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  const fields = new Date(local).toISOString().slice(0, 19);
  if (fields !== `${y}-${mo}-${d}T${h}:${mi}:${s}`) throw fail();
  const sign = offset.startsWith("-") ? -1 : 1;
  const offsetMs = /^z$/i.test(offset)
    ? 0
    : sign * (Number(offset.slice(1, 3)) * 60 + Number(offset.slice(4, 6))) * 60_000;
  const ms = local - offsetMs + Math.floor(Number(`0${fraction}`) * 1000);
  if (kind === "hour" && ms % HOUR_MS !== 0) throw fail();
  return ms;
}

/** Bold, only on a terminal and without NO_COLOR (https://no-color.org): pipes and log files get plain text. */
export function boldFor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): (text: string) => string {
  const colored = Boolean(stream.isTTY) && !env.NO_COLOR;
  return (text) => (colored ? `\u001b[1m${text}\u001b[0m` : text);
}

/** Whether an error is the reader having gone away (`| head`): a normal end, not a failure. */
export function isClosedPipe(e: unknown): boolean {
  return (e as NodeJS.ErrnoException | undefined)?.code === "EPIPE";
}

/** Ends the process with `code` (0: a normal end) when the stream's reader goes away, saying nothing. */
export function endWhenReaderGoes(
  stream: NodeJS.WritableStream,
  exit: (code: number) => void = (code) => process.exit(code),
  code = 0,
): void {
  stream.on("error", (e) => {
    if (isClosedPipe(e)) exit(code);
    else throw e;
  });
}
