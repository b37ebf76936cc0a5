// The loader's deployable archive, served by the Functions Framework, against the local BigQuery-API
// server, with storage CloudEvents delivered over HTTP as Eventarc delivers them.
import { mkdirSync, utimesSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { folderGeneration } from "../../functions/loader/src/storedObjects";
import { isLoopback, listeningSockets, processTree } from "../../sandbox/processes/listeningSockets";
import {
  curatedObjectsWithoutLineage,
  loadsPerObject,
  rowsLoadedTwice,
  RunQuery,
} from "../../sandbox/verdict/localBigQuery";
import { LoaderUnderTest, queryRows, startLoaderUnderTest } from "./localLoader";

let loader: LoaderUnderTest;
let T: string;

beforeAll(async () => {
  loader = await startLoaderUnderTest();
  T = `${loader.project}.${loader.dataset}`;
}, 90000);

afterAll(async () => {
  await loader?.stop();
});

interface PublishedObject {
  name: string;
  generation: string;
}

/**
 * Writes a published file as the hourly job does (no header, schema order, hour as 'YYYY-MM-DD HH:00:00');
 * its generation is the folder's stand-in for it, which the loader reads back. `at` (microseconds) sets it.
 */
function publish(name: string, lines: string[], at: string): PublishedObject {
  const path = join(loader.bigquery.gcsRoot, loader.bucket, name);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, lines.map((l) => `${l}\n`).join(""));
  const seconds = Number(BigInt(at) / 1000n) / 1000;
  utimesSync(path, seconds, seconds);
  return { name, generation: folderGeneration(path) as string };
}

/** One delivery: CloudEvents binary content mode, the object's StorageObjectData as the body. */
async function deliver(object: { name: string; generation: unknown }, bucket = loader.bucket): Promise<number> {
  const response = await fetch(loader.functionUrl, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "ce-specversion": "1.0",
      "ce-id": `event-${JSON.stringify(object.generation)}`,
      "ce-source": `//storage.googleapis.com/projects/_/buckets/${bucket}`,
      "ce-type": "google.cloud.storage.object.v1.finalized",
      "ce-subject": `objects/${object.name}`,
      "ce-time": "2026-11-26T15:05:12.123Z",
    },
    body: JSON.stringify({ bucket, name: object.name, generation: object.generation, metageneration: "1" }),
    signal: AbortSignal.timeout(30000),
  });
  await response.text();
  return response.status;
}

/** The sandbox's double-load detectors, run over REST here. */
const rest: RunQuery = (sql) => queryRows(loader, sql);

const HOUR = "FORMAT_TIMESTAMP('%Y-%m-%d %H:%M:%S', hour) AS hour";

async function hourlyRows(from: string, where: string): Promise<string[]> {
  const rows = await queryRows(
    loader,
    `SELECT ${HOUR}, product_id, visits, cart_adds, run_id FROM \`${T}.${from}\` WHERE ${where}`,
  );
  return rows.map((r) => [r.hour, r.product_id, r.visits, r.cart_adds, r.run_id].join(",")).sort();
}

test("the local server answers a reused job id with 409 duplicate, as BigQuery does", async () => {
  // The idempotency tests below rely on this answer; bqemulator 1.4.0 unpatched re-runs the job instead.
  const insert = () =>
    fetch(`${loader.bigquery.endpoint}/bigquery/v2/projects/${loader.project}/jobs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        jobReference: { jobId: "reused_job_id_check", location: loader.location },
        configuration: { query: { query: "SELECT 1", useLegacySql: false } },
      }),
    });
  expect((await insert()).status).toBe(200);
  const second = await insert();
  expect(second.status).toBe(409);
  expect(await second.json()).toMatchObject({ error: { code: 409, errors: [{ reason: "duplicate" }] } });
});

test("the same event delivered three times appends the file's rows once", async () => {
  const run = "20261126T150512123456Z";
  const lines = [
    `2026-11-26 14:00:00,P000001,7,2,${run}`,
    `2026-11-26 14:00:00,P000002,3,0,${run}`,
    `2026-11-26 14:00:00,P000003,0,1,${run}`,
  ];
  const object = publish(`hourly/dt=2026-11-26/hr=14/run_id=${run}/part-00000.csv`, lines, "1764169512123456");
  const inHour = "hour = TIMESTAMP '2026-11-26 14:00:00+00'";

  expect(await deliver(object)).toBe(204);
  // Every line is a row, the first one included: the published files have no header.
  expect(await hourlyRows("hourly_activity", inHour)).toEqual(lines);
  expect(await deliver(object)).toBe(204);
  // A redelivery can race another one: two at once.
  expect(await Promise.all([deliver(object), deliver(object)])).toEqual([204, 204]);
  expect(await hourlyRows("hourly_activity", inHour)).toEqual(lines);

  const lineage = await queryRows(
    loader,
    `SELECT object, generation, output_rows, run_id, load_job_id FROM \`${T}.hourly_activity_loads\` WHERE run_id = '${run}'`,
  );
  expect(lineage).toEqual([
    {
      object: object.name,
      generation: object.generation,
      output_rows: "3",
      run_id: run,
      load_job_id: expect.stringMatching(
        /^hourly_load_dt_2026-11-26_hr_14_run_id_20261126T150512123456Z_part-00000_csv_[0-9a-f]{32}$/,
      ),
    },
  ]);
  expect(loader.functionOutput()).toContain('"message":"already loaded by an earlier delivery"');
});

test("each load's lineage row counts the rows that load added, not the table's total after it", async () => {
  const run = "20261126T220512123456Z";
  const before = Number((await queryRows(loader, `SELECT COUNT(*) AS n FROM \`${T}.hourly_activity\``))[0].n);
  const first = publish(
    `hourly/dt=2026-11-26/hr=21/run_id=${run}/part-00000.csv`,
    [`2026-11-26 21:00:00,P000004,5,1,${run}`, `2026-11-26 21:00:00,P000005,2,0,${run}`],
    "1764194712123456",
  );
  const second = publish(
    `hourly/dt=2026-11-26/hr=21/run_id=${run}/part-00001.csv`,
    [`2026-11-26 21:00:00,P000006,1,1,${run}`],
    "1764194712123457",
  );
  expect(await deliver(first)).toBe(204);
  expect(await deliver(second)).toBe(204);
  const lineage = await queryRows(
    loader,
    `SELECT object, output_rows FROM \`${T}.hourly_activity_loads\` WHERE run_id = '${run}' ORDER BY object`,
  );
  expect(before).toBeGreaterThan(0); // the table held rows already: a total would differ from the file's count
  expect(lineage).toEqual([
    { object: first.name, output_rows: "2" },
    { object: second.name, output_rows: "1" },
  ]);
});

test("a quiet hour's empty file is recorded as loaded with zero rows, once, and adds no row", async () => {
  const run = "20261126T040512123456Z";
  const object = publish(`hourly/dt=2026-11-26/hr=03/run_id=${run}/part-00000.csv`, [], "1764126312123456");

  expect(await deliver(object)).toBe(204);
  expect(await deliver(object)).toBe(204);
  expect(await hourlyRows("hourly_activity", "hour = TIMESTAMP '2026-11-26 03:00:00+00'")).toEqual([]);
  const lineage = await queryRows(
    loader,
    `SELECT object, generation, output_rows, FORMAT_TIMESTAMP('%Y-%m-%d %H', hour) AS hour FROM \`${T}.hourly_activity_loads\` WHERE run_id = '${run}'`,
  );
  expect(lineage).toEqual([
    { object: object.name, generation: object.generation, output_rows: "0", hour: "2026-11-26 03" },
  ]);
  // The line the freshness alert counts (contract/log-lines.json hourLoaded), so a quiet night does not page.
  const loaded = loader
    .functionOutput()
    .split("\n")
    .filter((l) => l.includes(object.name) && l.includes('"message":"loaded"'));
  expect(loaded.length).toBeGreaterThan(0);
  expect(loaded.every((l) => l.includes('"outputRows":0'))).toBe(true);
});

test("an hour published by two runs shows once, from the latest run, in the latest-run and totals views", async () => {
  const first = "20261126T160000000001Z";
  const rerun = "20261126T170000000001Z";
  const objects = [
    publish(
      `hourly/dt=2026-11-26/hr=15/run_id=${first}/part-00000.csv`,
      [`2026-11-26 15:00:00,P000001,10,1,${first}`, `2026-11-26 15:00:00,P000009,4,4,${first}`],
      "1764172800000001",
    ),
    publish(
      `hourly/dt=2026-11-26/hr=15/run_id=${first}/part-00001.csv`,
      [`2026-11-26 15:00:00,P000002,5,0,${first}`],
      "1764172800000002",
    ),
    // The backfill of hour 15: P000009's entries moved to hour 16, P000001 gained late entries.
    publish(
      `hourly/dt=2026-11-26/hr=15/run_id=${rerun}/part-00000.csv`,
      [`2026-11-26 15:00:00,P000001,12,2,${rerun}`, `2026-11-26 15:00:00,P000002,5,0,${rerun}`],
      "1764176400000001",
    ),
    publish(
      `hourly/dt=2026-11-26/hr=16/run_id=${rerun}/part-00000.csv`,
      [`2026-11-26 16:00:00,P000009,4,4,${rerun}`],
      "1764176400000002",
    ),
  ];
  for (const o of objects) expect(await deliver(o)).toBe(204);
  const hours = "hour BETWEEN TIMESTAMP '2026-11-26 15:00:00+00' AND TIMESTAMP '2026-11-26 16:00:00+00'";

  // Appends only: the table keeps the rows of both runs.
  expect(await hourlyRows("hourly_activity", hours)).toHaveLength(6);
  expect(await hourlyRows("hourly_activity_latest", hours)).toEqual([
    `2026-11-26 15:00:00,P000001,12,2,${rerun}`,
    `2026-11-26 15:00:00,P000002,5,0,${rerun}`,
    `2026-11-26 16:00:00,P000009,4,4,${rerun}`,
  ]);
  const totals = await queryRows(
    loader,
    `SELECT ${HOUR}, product_page_visits, items_added_to_cart, run_id FROM \`${T}.hourly_totals\` WHERE ${hours} ORDER BY hour`,
  );
  expect(totals).toEqual([
    { hour: "2026-11-26 15:00:00", product_page_visits: "17", items_added_to_cart: "2", run_id: rerun },
    { hour: "2026-11-26 16:00:00", product_page_visits: "4", items_added_to_cart: "4", run_id: rerun },
  ]);
});

test("a file with a bad row is acknowledged, logged and loads nothing; objects that are not published files are ignored", async () => {
  const run = "20261126T180000000001Z";
  const object = publish(
    `hourly/dt=2026-11-26/hr=17/run_id=${run}/part-00000.csv`,
    [`2026-11-26 17:00:00,P000001,1,0,${run}`, `2026-11-26 17:00:00,P000002,many,0,${run}`],
    "1764180000000001",
  );
  const count = async () =>
    (await queryRows(loader, `SELECT COUNT(*) AS n FROM \`${T}.hourly_activity\` WHERE run_id = '${run}'`))[0].n;

  expect(await deliver(object)).toBe(204);
  expect(await count()).toBe("0");
  expect(loader.functionOutput()).toMatch(
    /"severity":"ERROR","message":"not loaded: [^"]*".*"object":"hourly\/dt=2026-11-26\/hr=17\/run_id=20261126T180000000001Z\/part-00000.csv".*"reason":"invalid: /,
  );

  expect(await deliver({ name: "staging/dt=2026-11-26/hr=17/part-00000.csv", generation: "1" })).toBe(204);
  expect(await deliver({ name: `hourly/dt=2026-11-26/hr=17/run_id=${run}/_SUCCESS`, generation: "1" })).toBe(204);
  expect(await deliver(object, "some-other-bucket")).toBe(204);
  expect(await count()).toBe("0");
  expect(loader.functionOutput()).toContain("outside the published prefix 'hourly/'");
});

test("one file loaded twice, under two generations, is folded by the latest-run view and found through the lineage table", async () => {
  const run = "20261126T190000000001Z";
  const lines = [`2026-11-26 18:00:00,P000001,4,1,${run}`, `2026-11-26 18:00:00,P000002,2,0,${run}`];
  const name = `hourly/dt=2026-11-26/hr=18/run_id=${run}/part-00000.csv`;
  const inHour = "hour = TIMESTAMP '2026-11-26 18:00:00+00'";
  const first = publish(name, lines, "1764183600000001");
  expect(await deliver(first)).toBe(204);
  expect(await rowsLoadedTwice(rest, `${T}.hourly_activity`)).toBe(0);

  // The same bytes uploaded again: a new generation, so a new load job id, and the rows go in again.
  const second = publish(name, lines, "1764183660000002");
  expect(await deliver(second)).toBe(204);
  expect(await hourlyRows("hourly_activity", inHour)).toEqual([...lines, ...lines].sort());
  // The view's MAX(...) folds the copy, so a reconciliation through it cannot see the double load...
  expect(await hourlyRows("hourly_activity_latest", inHour)).toEqual(lines);
  // ...the lineage table and the base table can.
  const lineage = await queryRows(
    loader,
    `SELECT generation, load_job_id FROM \`${T}.hourly_activity_loads\` WHERE object = '${name}' ORDER BY generation`,
  );
  expect(lineage.map((r) => r.generation)).toEqual([first.generation, second.generation]);
  expect(new Set(lineage.map((r) => r.load_job_id)).size).toBe(2);
  expect((await loadsPerObject(rest, `${T}.hourly_activity_loads`)).filter((o) => o.loadJobs > 1)).toEqual([
    { object: name, hour: "2026-11-26T18", runId: run, loadJobs: 2 },
  ]);
  expect(await rowsLoadedTwice(rest, `${T}.hourly_activity`)).toBe(2);
});

describe("the loader loads only what the event announced and the pipeline published", () => {
  const countOf = async (run: string) =>
    (
      await queryRows(
        loader,
        `SELECT COUNT(*) AS n FROM \`${T}.hourly_activity\` WHERE run_id = '${run}' OR hour = TIMESTAMP '2026-11-27 03:00:00+00'`,
      )
    )[0].n;
  const lineageOf = async (name: string) =>
    queryRows(loader, `SELECT generation FROM \`${T}.hourly_activity_loads\` WHERE object = '${name}'`);

  test("an event whose generation is not decimal digits loads nothing, and says why", async () => {
    const run = "20261127T040000000001Z";
    const object = publish(
      `hourly/dt=2026-11-27/hr=03/run_id=${run}/part-00000.csv`,
      [`2026-11-27 03:00:00,P000001,5,1,${run}`],
      "1764212400000001",
    );
    expect(await deliver({ name: object.name, generation: { $gt: 1 } })).toBe(204);
    expect(await deliver({ name: object.name, generation: `${object.generation} OR 1=1` })).toBe(204);
    expect(await countOf(run)).toBe("0");
    expect(await lineageOf(object.name)).toEqual([]);
    expect(loader.functionOutput()).toMatch(
      /"severity":"ERROR","message":"not loaded: .*"reason":"the event's generation is a object, not a decimal generation"/,
    );
    expect(loader.functionOutput()).toContain("is not decimal digits");
  });

  test("an event naming a generation that is not the object's live one loads nothing; the live one's event loads it once", async () => {
    const run = "20261127T050000000001Z";
    const object = publish(
      `hourly/dt=2026-11-27/hr=04/run_id=${run}/part-00000.csv`,
      [`2026-11-27 04:00:00,P000001,5,1,${run}`],
      "1764216000000001",
    );
    const stale = (BigInt(object.generation) - 1000n).toString();
    expect(await deliver({ name: object.name, generation: stale })).toBe(204);
    expect(await countOf(run)).toBe("0");
    expect(loader.functionOutput()).toContain(
      `the event announces generation ${stale} but the live generation is ${object.generation}`,
    );
    expect(await deliver(object)).toBe(204);
    expect(await countOf(run)).toBe("1");
    expect((await lineageOf(object.name)).map((r) => r.generation)).toEqual([object.generation]);
  });

  test("a file whose rows name another hour or run is rejected whole, and its rows never win the hour", async () => {
    const run = "20261127T060000000001Z";
    const hour = "hour = TIMESTAMP '2026-11-27 05:00:00+00'";
    const genuine = publish(
      `hourly/dt=2026-11-27/hr=05/run_id=${run}/part-00000.csv`,
      [`2026-11-27 05:00:00,P000001,5,1,${run}`],
      "1764219600000001",
    );
    expect(await deliver(genuine)).toBe(204);
    // Written beside the checked output: its rows claim a run that sorts after every real one.
    const planted = publish(
      `hourly/dt=2026-11-27/hr=05/run_id=${run}/part-00001.csv`,
      [`2026-11-27 05:00:00,P000001,5,1,${run}`, "2026-11-27 05:00:00,P000001,1000000,0,zzzz"],
      "1764219600000002",
    );
    expect(await deliver(planted)).toBe(204);
    const otherHour = publish(
      `hourly/dt=2026-11-27/hr=05/run_id=${run}/part-00002.csv`,
      [`2026-11-27 06:00:00,P000001,1000000,0,${run}`],
      "1764219600000003",
    );
    expect(await deliver(otherHour)).toBe(204);

    expect(
      await queryRows(
        loader,
        `SELECT COUNT(*) AS n FROM \`${T}.hourly_activity\` WHERE run_id = 'zzzz' OR visits = 1000000`,
      ),
    ).toEqual([{ n: "0" }]);
    expect(await hourlyRows("hourly_activity_latest", hour)).toEqual([`2026-11-27 05:00:00,P000001,5,1,${run}`]);
    expect(loader.functionOutput()).toContain(
      'row 2 is of run \\"zzzz\\", not the object name\'s 20261127T060000000001Z; nothing of the file was loaded',
    );
    expect(loader.functionOutput()).toContain(
      'row 1 is of hour \\"2026-11-27 06:00:00\\", not the object name\'s 2026-11-27 05:00:00',
    );
  });

  test("a row whose run has no lineage row never becomes the hour's latest run", async () => {
    const run = "20261127T070000000001Z";
    const hour = "hour = TIMESTAMP '2026-11-27 06:00:00+00'";
    expect(
      await deliver(
        publish(
          `hourly/dt=2026-11-27/hr=06/run_id=${run}/part-00000.csv`,
          [`2026-11-27 06:00:00,P000001,5,1,${run}`],
          "1764223200000001",
        ),
      ),
    ).toBe(204);
    // Rows that reached the table some other way than a verified load.
    await queryRows(
      loader,
      `INSERT INTO \`${T}.hourly_activity\` (hour, product_id, visits, cart_adds, run_id) VALUES (TIMESTAMP '2026-11-27 06:00:00+00', 'P000001', 1000000, 0, 'zzzz')`,
    );
    expect(await hourlyRows("hourly_activity_latest", hour)).toEqual([`2026-11-27 06:00:00,P000001,5,1,${run}`]);
    const totals = await queryRows(
      loader,
      `SELECT product_page_visits, run_id FROM \`${T}.hourly_totals\` WHERE ${hour}`,
    );
    expect(totals).toEqual([{ product_page_visits: "5", run_id: run }]);
  });

  test("a body that is not JSON gets a plain 400 with one sentence, no stack trace", async () => {
    const response = await fetch(loader.functionUrl, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "ce-specversion": "1.0",
        "ce-id": "x",
        "ce-source": "//x",
        "ce-type": "google.cloud.storage.object.v1.finalized",
      },
      body: "{not json",
    });
    expect(response.status).toBe(400);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(await response.text()).toBe("The request body is not valid JSON.\n");
  });

  test("the loader and the local BigQuery server listen on the loopback address only", () => {
    for (const pid of [loader.pid, loader.bigquery.pid]) {
      const sockets = listeningSockets(processTree(pid));
      expect(sockets.length).toBeGreaterThan(0);
      expect(sockets.filter((s) => !isLoopback(s.address))).toEqual([]);
    }
  });
});

test("the reconciliation lists every published object whose live generation has no lineage row", async () => {
  const gaps = await curatedObjectsWithoutLineage(
    rest,
    `${T}.hourly_activity_loads`,
    join(loader.bigquery.gcsRoot, loader.bucket),
  );
  expect(gaps).toEqual([
    "hourly/dt=2026-11-26/hr=17/run_id=20261126T180000000001Z/part-00000.csv", // a bad row
    "hourly/dt=2026-11-27/hr=03/run_id=20261127T040000000001Z/part-00000.csv", // events with no valid generation
    "hourly/dt=2026-11-27/hr=05/run_id=20261127T060000000001Z/part-00001.csv", // a row of another run
    "hourly/dt=2026-11-27/hr=05/run_id=20261127T060000000001Z/part-00002.csv", // a row of another hour
  ]);
});
