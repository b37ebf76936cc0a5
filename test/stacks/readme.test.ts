import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { WAREHOUSE_VIEWS } from "../../functions/loader/warehouse/warehouse";
import { DELAYS } from "../../stacks/consistency";
import { customRolesTable } from "../../stacks/identity";
import { settingsTable } from "../../stacks/settings";
import { REPO_ROOT } from "./pulumiProgram";

const read = (file: string) => readFileSync(path.join(REPO_ROOT, file), "utf8");
const readme = read("README.md");
const deploying = read("docs/deploying.md");
const access = read("docs/access.md");
/** The README and every page of docs/. */
const documentation = [
  readme,
  ...readdirSync(path.join(REPO_ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => read(`docs/${f}`)),
];

/** The output column names of a view's SQL: the items of its last SELECT, each by its alias or its column. */
function viewColumns(view: string): string[] {
  const sql = readFileSync(path.join(REPO_ROOT, "functions", "loader", "warehouse", `${view}.sql`), "utf8").replace(
    /--.*$/gm,
    "",
  );
  const select = sql.slice(sql.lastIndexOf("SELECT") + "SELECT".length, sql.lastIndexOf("FROM"));
  const items: string[] = [];
  let depth = 0,
    current = "";
  for (const ch of select) {
    depth += ch === "(" ? 1 : ch === ")" ? -1 : 0;
    if (ch === "," && depth === 0) {
      items.push(current);
      current = "";
    } else current += ch;
  }
  items.push(current);
  return items.map((item) => /(?:\bAS\s+|\.|^\s*)([A-Za-z_][A-Za-z0-9_]*)\s*$/i.exec(item.trim())![1]);
}

/** The documented columns of a view: the backticked names in its row of the views table (docs/deploying.md), after the first cell. */
function documentedColumns(view: string): string[] {
  const row = deploying.split("\n").find((line) => line.startsWith(`| \`${view}\` (`));
  if (!row) throw new Error(`docs/deploying.md documents no columns for the view ${view}`);
  const columns = row.split("|")[2];
  return [...columns.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]);
}

describe("the README and docs/, checked against the code they describe", () => {
  it.each([...WAREHOUSE_VIEWS])("documents the columns of the view %s, in the order the view returns them", (view) => {
    expect(documentedColumns(view)).toEqual(viewColumns(view));
  });

  it("shows the settings table exactly as Pulumi.yaml declares the keys (regenerate it with `npx tsx stacks/settings.ts`)", () => {
    const block = /<!-- settings:start -->\n([\s\S]*?)\n<!-- settings:end -->/.exec(readme);
    expect(block?.[1]).toBe(settingsTable());
  });

  it("lists each custom role's permissions exactly as the stack creates the role (regenerate it with `npx tsx stacks/identity.ts`)", () => {
    const block = /<!-- custom-roles:start -->\n([\s\S]*?)\n<!-- custom-roles:end -->/.exec(access);
    expect(block?.[1]).toBe(customRolesTable());
  });

  it("deploys with the policy pack wherever it shows `pulumi up` as a command", () => {
    let inCode = false;
    const codeLines = documentation
      .join("\n")
      .split("\n")
      .filter((line) => {
        if (line.startsWith("```")) inCode = !inCode;
        return inCode;
      });
    const commands = codeLines.filter((line) => /^\s*pulumi up\b/.test(line));
    expect(commands.length).toBeGreaterThanOrEqual(2);
    for (const command of commands) expect(command).toMatch(/^\s*pulumi up --policy-pack policy\b/);
  });

  it("names every wait of the first `pulumi up`, its length and its source, in the minute-by-minute section", () => {
    const start = deploying.indexOf("## The first `pulumi up` on a fresh project, minute by minute");
    expect(start).toBeGreaterThan(0);
    const section = deploying.slice(start, deploying.indexOf("\n## ", start + 10));
    for (const delay of Object.values(DELAYS)) {
      expect(section).toContain(`| ${delay.seconds / 60} min |`);
      for (const ref of delay.source.match(/[\w.-]+\/[\w.-]+#\d+/g) ?? []) expect(section).toContain(ref);
    }
  });

  it("reads a view's columns from its SQL", () => {
    expect(viewColumns("hourly_totals")).toEqual(["hour", "product_page_visits", "items_added_to_cart", "run_id"]);
  });
});
