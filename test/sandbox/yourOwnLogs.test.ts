// Your own logs through the sandbox's command line, against real processes: a real nginx serves product
// pages and cart additions and writes its access log; `up --format combined --no-traffic` (with access-log
// settings of your own) starts the pipeline; `ship` sends the log twice, as a shipper re-sending a file
// does; `query` then gives exactly the requests made, once; `status --json` tells the same, and the report,
// opened in Chromium, gives the account of the traffic with no verdict. The analyst queries of
// docs/sandbox.md run here too, over the same warehouse.
import { ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { launchChromium } from "../../sandbox/verdict/browser";
import { hourOf } from "../../sandbox/schedule/clock";
import { freePort } from "../../sandbox/shared/ports";
import { sandboxLayout } from "../../sandbox/shared/layout";
import { BQ_DATASET, BQ_PROJECT } from "../../sandbox/processes/parts";
import type { PipelineStatus } from "../../sandbox/commands/status";

const REPO = resolve(__dirname, "..", "..");
const NGINX = process.env.NGINX_PATH ?? "/usr/sbin/nginx";
const work = mkdtempSync(join(tmpdir(), "sandbox-own-logs-"));
const stateDir = join(work, "state");
const accessLog = join(work, "nginx", "access.log");
const VIEW = `${BQ_PROJECT}.${BQ_DATASET}.hourly_activity_latest`;

jest.setTimeout(240_000);

interface Run {
  code: number | null;
  out: string;
  err: string;
}

/** `npm start -- ARGS` (the sandbox's command line), to its end. */
function sandbox(args: string[], input?: string): Promise<Run> {
  const child = spawn(process.execPath, ["--import", "tsx", join(REPO, "sandbox", "commands", "cli.ts"), ...args], {
    cwd: REPO,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  child.stdin.end(input);
  return new Promise((r) => child.on("close", (code) => r({ code, out, err })));
}

/** The sandbox's state folder, for more checks over the same running sandbox (the report, for one). */
export const ownLogsStateDir = (): string => stateDir;

// ---- a real nginx, and the requests whose counts are known ----

let nginx: ChildProcess | undefined;

async function startNginx(): Promise<number> {
  const root = join(work, "nginx");
  mkdirSync(root, { recursive: true });
  const port = await freePort();
  writeFileSync(
    join(root, "nginx.conf"),
    `
daemon off;
pid ${root}/nginx.pid;
error_log ${root}/error.log;
events { worker_connections 64; }
http {
  access_log ${accessLog} combined;
  client_body_temp_path ${root}/body;
  proxy_temp_path ${root}/proxy;
  fastcgi_temp_path ${root}/fastcgi;
  uwsgi_temp_path ${root}/uwsgi;
  scgi_temp_path ${root}/scgi;
  server {
    listen 127.0.0.1:${port};
    location /products/ { return 200 "a product page\\n"; }
    location /cart/items/ { return 201 "added\\n"; }
    location /static/ { return 200 "body {}\\n"; }
    location / { return 404; }
  }
}
`,
  );
  nginx = spawn(NGINX, ["-p", root, "-c", join(root, "nginx.conf")], { stdio: "ignore" });
  for (let i = 0; i < 100; i++) {
    if ((await request(port, "GET", "/health-probe").catch(() => 0)) === 404) return port;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("nginx did not answer");
}

function request(port: number, method: string, path: string): Promise<number> {
  return new Promise((res, rej) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        method,
        path,
        headers: { "user-agent": "Mozilla/5.0 (X11; Linux x86_64) own-logs-test" },
      },
      (r) => {
        r.resume();
        r.on("end", () => res(r.statusCode ?? 0));
      },
    );
    req.on("error", rej);
    req.end();
  });
}

/** Visits and cart additions made, per product: what the warehouse must hold. */
const made = new Map<string, { visits: number; cart_adds: number }>();
let firstHour = "";

async function browse(port: number): Promise<void> {
  firstHour = hourOf(Date.now());
  const plan: [string, number, number][] = [
    ["P000101", 7, 2],
    ["P000202", 4, 1],
    ["P000303", 2, 0],
  ];
  for (const [product, visits, carts] of plan) {
    for (let i = 0; i < visits; i++) {
      expect(await request(port, "GET", `/products/${product}`)).toBe(200);
      expect(await request(port, "GET", "/static/app.css")).toBe(200);
    }
    for (let i = 0; i < carts; i++) expect(await request(port, "POST", `/cart/items/${product}`)).toBe(201);
    made.set(product, { visits, cart_adds: carts });
  }
  // neither a visit nor a cart addition: ignored, as the assets are
  expect(await request(port, "GET", "/about")).toBe(404);
}

// ---- the sandbox ----

const flags = ["--state-dir", stateDir];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function statusJson(): Promise<PipelineStatus> {
  const r = await sandbox(["status", "--json", ...flags]);
  expect(r.code).toBe(0);
  return JSON.parse(r.out) as PipelineStatus;
}

async function queryJson(sql: string): Promise<Record<string, unknown>[]> {
  const r = await sandbox(["query", sql, "--format", "json", ...flags]);
  if (r.code !== 0) throw new Error(`query failed (${r.code}): ${r.err}`);
  return r.out
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

let kafkaPort = 0;

beforeAll(async () => {
  const port = await startNginx();
  await browse(port);
  nginx?.kill("SIGQUIT"); // nginx writes every line before it ends
  await new Promise((r) => nginx?.once("exit", r));
  kafkaPort = await freePort();
  const up = await sandbox([
    "up",
    "--no-setup",
    ...flags,
    "--kafka-port",
    String(kafkaPort),
    "--format",
    "combined",
    "--no-traffic",
    "--counted-statuses",
    "200-299",
    "--clock",
    "3600x",
  ]);
  if (up.code !== 0) throw new Error(`up failed (${up.code}):\n${up.err}`);
});

afterAll(async () => {
  nginx?.kill("SIGKILL");
  await sandbox(["down", ...flags]);
});

test("a real nginx log shipped twice is counted once: query gives exactly the requests made", async () => {
  for (let i = 0; i < 2; i++) {
    const shipped = await sandbox(["ship", accessLog, ...flags]);
    expect(shipped.code).toBe(0);
    const lines = readFileSync(accessLog, "utf8").split("\n").filter(Boolean).length;
    expect(shipped.err).toContain(`shipped ${lines} lines`);
    expect(shipped.err).toContain("vector's envelope with host, file and byte offset");
    expect(shipped.err).toContain(`'npm start -- status --state-dir ${stateDir}'`);
    expect(shipped.err).toContain(`'npm start -- report --state-dir ${stateDir}' the account of every line`);
  }
  // stdin too: a line that is neither a visit nor a cart addition (ignored, so the counts stay the requests made)
  const piped = await sandbox(
    ["ship", "-", ...flags],
    `127.0.0.1 - - [${new Date().toUTCString().slice(5, 16).replace(/ /g, "/")}:${new Date().toISOString().slice(11, 19)} +0000] "GET /about HTTP/1.1" 404 153 "-" "curl/8.5.0"\n`,
  );
  expect(piped.code).toBe(0);
  expect(piped.err).toContain("shipped 1 line (");
  const lastHour = hourOf(Date.now());
  const until = Date.now() + 180_000;
  while (((await statusJson()).latest.loaded ?? "") < lastHour) {
    if (Date.now() > until)
      throw new Error(
        `hour ${lastHour} not loaded: ${readFileSync(join(sandboxLayout(stateDir).logs, "supervisor.log"), "utf8").slice(-3000)}`,
      );
    await sleep(1000);
  }
  const rows = await queryJson(
    `SELECT product_id, SUM(visits) AS visits, SUM(cart_adds) AS cart_adds FROM \`${VIEW}\` WHERE hour >= TIMESTAMP('${firstHour}:00:00Z') GROUP BY product_id ORDER BY product_id`,
  );
  expect(rows).toEqual([...made].map(([product_id, c]) => ({ product_id, visits: c.visits, cart_adds: c.cart_adds })));
});

test("status --json names the running pipeline, its Kafka port and the hour loaded", async () => {
  const s = await statusJson();
  expect(s.phase).toBe("running");
  expect(s.endpoints.kafkaBootstrap).toBe(`127.0.0.1:${kafkaPort}`);
  expect(s.latest.loaded! >= firstHour).toBe(true);
  expect(s.failedHours).toEqual([]);
  expect(s.traffic).toBe("your producers");
});

test("status --watch redraws the figures alone, plain into a pipe, and ends quietly when the reader goes", async () => {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(REPO, "sandbox", "commands", "cli.ts"), "status", "--watch", ...flags],
    { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const closed = new Promise<number | null>((r) => child.on("close", r));
  const until = Date.now() + 60_000;
  while ((out.match(/latest hour loaded/g) ?? []).length < 2 && Date.now() < until) await sleep(200);
  child.stdout.destroy(); // as `| head` does once it has its lines
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  const code = await closed;
  clearTimeout(timer);
  expect((out.match(/latest hour loaded/g) ?? []).length).toBeGreaterThanOrEqual(2);
  expect(out).not.toContain("endpoints");
  expect(out).not.toContain("\u001b[");
  expect(code).toBe(0);
  expect(err).not.toMatch(/EPIPE|error/);
});

test("query prints timestamps as ISO times, as a table, CSV or JSON", async () => {
  const sql = `SELECT hour, SUM(visits) AS visits FROM \`${VIEW}\` WHERE hour >= TIMESTAMP('${firstHour}:00:00Z') GROUP BY hour ORDER BY hour LIMIT 1`;
  const total = [...made.values()].reduce((a, c) => a + c.visits, 0);
  const [row] = await queryJson(sql);
  expect(row.hour).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:00:00(\.000)?Z$/);
  const csv = await sandbox(["query", sql, "--format", "csv", ...flags]);
  expect(csv.out.split("\n")[0]).toBe("hour,visits");
  const table = await sandbox(["query", sql, ...flags]);
  expect(table.out.split("\n")[0]).toMatch(/^hour +visits$/);
  expect(Number(row.visits)).toBeLessThanOrEqual(total);
});

test("the analyst queries of docs/sandbox.md run over the warehouse and give the requests made", async () => {
  const page = readFileSync(join(REPO, "docs", "sandbox.md"), "utf8");
  const queries = new Map([...page.matchAll(/```sql\n-- (.*)\n([\s\S]*?)```/g)].map((m) => [m[1], m[2]]));
  expect([...queries.keys()]).toEqual([
    "top products per day",
    "cart conversion per product: cart additions per product-page visit",
    "the hourly trend",
  ]);
  const [perDay, conversion, trend] = await Promise.all([...queries.values()].map((sql) => queryJson(sql)));
  const sum = (rows: Record<string, unknown>[], product: string, column: string) =>
    rows.filter((r) => r.product_id === product).reduce((a, r) => a + Number(r[column]), 0);
  for (const [product, c] of made) {
    expect([sum(perDay, product, "visits"), sum(perDay, product, "cart_adds")]).toEqual([c.visits, c.cart_adds]);
    expect(conversion.find((r) => r.product_id === product)?.conversion).toBeCloseTo(c.cart_adds / c.visits, 3);
  }
  expect(perDay[0]).toMatchObject({ day: firstHour.slice(0, 10), product_id: "P000101" });
  const total = [...made.values()].reduce(
    (a, c) => ({ visits: a.visits + c.visits, cart_adds: a.cart_adds + c.cart_adds }),
    { visits: 0, cart_adds: 0 },
  );
  expect(
    trend.reduce(
      (a: { visits: number; cart_adds: number }, r) => ({
        visits: a.visits + Number(r.visits),
        cart_adds: a.cart_adds + Number(r.cart_adds),
      }),
      { visits: 0, cart_adds: 0 },
    ),
  ).toEqual(total);
  expect(String(trend[0].hour)).toMatch(new RegExp(`^${firstHour}:00:00`));
});

test("the report, opened in headless Chromium, gives the account of the traffic and no verdict", async () => {
  const written = await sandbox(["report", ...flags]);
  expect(written.code).toBe(0);
  const lines = readFileSync(accessLog, "utf8").split("\n").filter(Boolean).length;
  const entries = [...made.values()].reduce((a, c) => a + c.visits + c.cart_adds, 0);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(pathToFileURL(sandboxLayout(stateDir).report).href, { waitUntil: "load" });
    const banners = await page.$$eval("#verdict, #failed-hours, #reconciliation", (found) => found.map((e) => e.id));
    const figures = await page.$$eval("#account-figures td", (tds) =>
      Object.fromEntries(tds.map((td) => [td.className, Number(td.textContent)])),
    );
    const visitBars = await page.$$eval("#visits-per-hour rect.bar", (rects) =>
      rects.map((r) => Number(r.getAttribute("data-value"))),
    );
    expect(banners).toEqual([]);
    // the log shipped twice and one line from stdin; every second delivery of an entry is counted once
    expect(figures).toEqual({
      "lines-in": 2 * lines + 1,
      "into-raw": 2 * entries,
      quarantined: 0,
      ignored: 2 * (lines - entries) + 1,
      "raw-of-loaded": 2 * entries,
      counted: entries,
      repeated: entries,
    });
    expect(visitBars.reduce((a, v) => a + v, 0)).toBe([...made.values()].reduce((a, c) => a + c.visits, 0));
  } finally {
    await browser.close();
  }
});
