// Which rows belong to a published file: those naming the hour and run of the file's own name.
import { hasNoRows, rowsNotOfFile } from "../../functions/loader/src/publishedRows";

const file = { hour: "2026-11-26T14:00:00Z", runId: "20261126T150512123456Z", part: 0 };
const row = (hour: string, runId: string) => `${hour},P000001,3,1,${runId}\n`;

describe("a published file's rows", () => {
  it("rows of the file's hour and run belong to it", () => {
    expect(rowsNotOfFile(row("2026-11-26 14:00:00", file.runId).repeat(3), file)).toBeUndefined();
  });
  it("an empty file and a file of only the column names (a quiet hour) belong", () => {
    expect(rowsNotOfFile("", file)).toBeUndefined();
    expect(rowsNotOfFile("hour,product_id,visits,cart_adds,run_id\n", file)).toBeUndefined();
  });
  it("a row of another run is refused, naming the row", () => {
    expect(rowsNotOfFile(row("2026-11-26 14:00:00", file.runId) + row("2026-11-26 14:00:00", "zzzz"), file)).toBe(
      'row 2 is of run "zzzz", not the object name\'s 20261126T150512123456Z',
    );
  });
  it("a row of another hour is refused", () => {
    expect(rowsNotOfFile(row("2026-11-26 15:00:00", file.runId), file)).toMatch(
      /^row 1 is of hour "2026-11-26 15:00:00"/,
    );
  });
  it("a row whose columns a quoted comma shifts is refused", () => {
    expect(rowsNotOfFile(`2026-11-26 14:00:00,"P1,x",3,1,${file.runId}\n`, file)).toBe(
      "row 1 has 6 columns, not the contract's 5",
    );
  });
  it("the column names are only a header on the first line", () => {
    expect(
      rowsNotOfFile(row("2026-11-26 14:00:00", file.runId) + "hour,product_id,visits,cart_adds,run_id\n", file),
    ).toMatch(/^row 2 is of hour/);
  });
});

describe("a quiet hour's file", () => {
  const HEADER = "hour,product_id,visits,cart_adds,run_id";
  it.each([[""], ["\n"], [HEADER], [`${HEADER}\n`]])("%j has no rows", (content) => {
    expect(hasNoRows(content)).toBe(true);
  });
  it.each([[`${HEADER}\n\n`], [`${HEADER}\nx`], ["\n\n"], [`x${HEADER}`], [`\n${HEADER}`]])(
    "%j has something besides",
    (content) => {
      expect(hasNoRows(content)).toBe(false);
    },
  );
});

describe("rows without a last newline, and long values", () => {
  it("the last row counts even when no newline ends it", () => {
    expect(
      rowsNotOfFile(row("2026-11-26 14:00:00", file.runId) + row("2026-11-26 15:00:00", file.runId).trimEnd(), file),
    ).toMatch(/^row 2 is of hour/);
  });
  it("a refused value is quoted to its first 40 characters", () => {
    const long = "2026-11-26 14:00:00".padEnd(60, "x");
    expect(rowsNotOfFile(row(long, file.runId), file)).toBe(
      `row 1 is of hour ${JSON.stringify(long.slice(0, 40))}, not the object name's 2026-11-26 14:00:00`,
    );
    const run = "r".repeat(60);
    expect(rowsNotOfFile(row("2026-11-26 14:00:00", run), file)).toBe(
      `row 1 is of run ${JSON.stringify(run.slice(0, 40))}, not the object name's ${file.runId}`,
    );
  });
});
