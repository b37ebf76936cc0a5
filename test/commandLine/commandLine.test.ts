// The conventions every tool's command line shares: one table for parsing and help, one sentence per
// mistake, one time format, bold only where a person reads it.
import {
  boldFor,
  optionsHelp,
  OptionTable,
  parseCommandLine,
  parseIsoTime,
  UsageError,
} from "../../commandLine/commandLine";

const OPTIONS: OptionTable = {
  "state-dir": { value: "DIR", help: "where state lives" },
  clock: { value: "SPEED", commands: ["up"], help: "how fast the clock runs" },
  watch: { commands: ["status"], help: "refresh\nevery 2 seconds" },
};
const spec = {
  options: OPTIONS,
  commands: ["run", "up", "status", "ship"],
  defaultCommand: "run",
  takeOperands: ["ship"],
};

describe("one option table", () => {
  test("parses a command, its options and its operands", () => {
    expect(parseCommandLine(spec, ["up", "--clock", "60x", "--state-dir=/tmp/s"])).toEqual({
      command: "up",
      values: { clock: "60x", "state-dir": "/tmp/s" },
      operands: [],
      help: false,
    });
    expect(parseCommandLine(spec, ["--state-dir", "d"]).command).toBe("run");
    expect(parseCommandLine(spec, ["ship", "a.log", "-"]).operands).toEqual(["a.log", "-"]);
    // a word with a space is an operand, even one that opens like a flag (SQL starting with a comment)
    expect(parseCommandLine(spec, ["ship", "-- top products\nSELECT 1", "--state-dir", "d"]).operands).toEqual([
      "-- top products\nSELECT 1",
    ]);
    expect(parseCommandLine(spec, ["status", "--watch", "-h"]).help).toBe(true);
  });

  test("refuses, in one sentence each, a flag of another command, an unknown flag, a stray word, a missing value", () => {
    const refusal = (argv: string[]) => {
      try {
        parseCommandLine(spec, argv);
      } catch (e) {
        expect(e).toBeInstanceOf(UsageError);
        return (e as Error).message;
      }
      throw new Error(`accepted: ${argv.join(" ")}`);
    };
    expect(refusal(["run", "--clock", "60x"])).toBe("--clock is an option of up, not of run (see --help)");
    expect(refusal(["status", "--bogus"])).toBe("unknown option '--bogus' (see --help)");
    expect(refusal(["status", "stray"])).toBe("unexpected argument 'stray' for status (see --help)");
    expect(refusal(["up", "--clock"])).toBe("--clock needs a value");
    expect(refusal(["up", "--clock", "-5"])).toBe(
      "--clock needs a value (a value that starts with '-' is written --clock=VALUE)",
    );
    expect(refusal(["status", "--watch=yes"])).toBe("--watch takes no value");
    expect(refusal(["launch"])).toBe("unknown command 'launch' (the commands are run, up, status, ship)");
  });

  test("--help shows every option with its value, the commands that take it and its text", () => {
    expect(optionsHelp(OPTIONS).split("\n")).toEqual([
      "  --state-dir DIR  where state lives",
      "  --clock SPEED    up: how fast the clock runs",
      "  --watch          status: refresh",
      "                   every 2 seconds",
      "  -h, --help       this text",
    ]);
  });
});

describe("one time format", () => {
  test("an hour alone, minutes, seconds with a fraction, an offset: ISO 8601 / RFC 3339, UTC without an offset", () => {
    const t = Date.parse("2026-03-01T10:00:00Z");
    expect(parseIsoTime("--start", "2026-03-01T10", "hour")).toBe(t);
    expect(parseIsoTime("--start", "2026-03-01T10:00", "hour")).toBe(t);
    expect(parseIsoTime("--start", "2026-03-01T10:00:00Z", "hour")).toBe(t);
    expect(parseIsoTime("--start", "2026-03-01T11:00:00+01:00", "hour")).toBe(t);
    expect(parseIsoTime("--clock-start", "2026-03-01T10:05:30.25Z", "time")).toBe(t + 330_250);
    expect(parseIsoTime("--clock-start", "2026-03-01t05:05-05:00", "time")).toBe(t + 300_000);
  });

  test("a time that is not a whole hour where one is needed, or no time at all, is refused naming the flag", () => {
    expect(() => parseIsoTime("--hour", "2026-03-01T10:30", "hour")).toThrow(
      "--hour must be a UTC hour like 2026-03-01T10 or 2026-03-01T10:00:00Z, got '2026-03-01T10:30'",
    );
    expect(() => parseIsoTime("--hour", "2026-02-30T10", "hour")).toThrow(UsageError);
    expect(() => parseIsoTime("--hour", "2026-03-01 10", "hour")).toThrow(UsageError);
    expect(() => parseIsoTime("--clock-start", "yesterday", "time")).toThrow(
      "--clock-start must be an ISO time like 2026-03-01T10:05:00Z",
    );
  });
});

test("bold only on a terminal, and never with NO_COLOR", () => {
  expect(boldFor({ isTTY: true }, {})("==> x")).toBe("\u001b[1m==> x\u001b[0m");
  expect(boldFor({ isTTY: true }, { NO_COLOR: "1" })("==> x")).toBe("==> x");
  expect(boldFor({ isTTY: false }, {})("==> x")).toBe("==> x");
});
