// The handler's decisions on BigQuery's answers. Errors are made by the client library's own parser
// (@google-cloud/common, what @google-cloud/bigquery throws) from BigQuery's REST error bodies, and
// job resources are in the REST shape of jobs.get.
import { util } from "@google-cloud/common";
import { JobResource, JobsApi, TransientLoadError } from "../../functions/loader/src/bigqueryJobs";
import {
  handleObjectFinalized,
  LoaderDeps,
  LoadResult,
  MAX_LOAD_ATTEMPTS,
} from "../../functions/loader/src/hourlyLoader";
import { WaitPolicy } from "../../functions/loader/src/idempotentJob";
import { LoaderConfig } from "../../functions/loader/src/loaderConfig";
import { loadJobIdFor, loadLogJobIdFor } from "../../functions/loader/src/loadJobId";
import { LogFields, Severity } from "../../functions/loader/src/structuredLog";
import { objectsHolding } from "./objectsHolding";

const config: LoaderConfig = {
  project: "my-project",
  dataset: "clickstream",
  location: "EU",
  hourlyTable: "hourly_activity",
  loadLogTable: "hourly_activity_loads",
  curatedBucket: "my-project-curated",
  loadWaitSeconds: 60,
};
const NAME = "hourly/dt=2026-11-26/hr=07/run_id=20261126T150512123456Z/part-00000.csv";
const OBJECT = { bucket: config.curatedBucket, name: NAME, generation: "1764169512123456" };
const URI = `gs://${OBJECT.bucket}/${NAME}`;
const event = {
  type: "google.cloud.storage.object.v1.finalized",
  id: "7331",
  data: { ...OBJECT, metageneration: "1" },
};
const LOAD = loadJobIdFor(OBJECT);
const LOG = loadLogJobIdFor(LOAD);

/** What @google-cloud/bigquery rejects with for an HTTP error whose body is `body`. */
function clientError(body: object): Error {
  return util.parseHttpRespBody(JSON.stringify(body)).err as Error;
}
// Error bodies in BigQuery's documented shape, {error: {code, message, errors: [{domain, reason, message}]}},
// with the HTTP codes and reasons its error table gives: https://cloud.google.com/bigquery/docs/error-messages
// (backendError 500 or 503, rateLimitExceeded and quotaExceeded 403, invalid 400, duplicate 409), and the
// quota bodies of https://cloud.google.com/bigquery/docs/troubleshoot-quotas.
const restError = (code: number, reason: string, message: string) =>
  clientError({ error: { code, message, errors: [{ domain: "global", reason, message }] } });
const alreadyExists = (jobId: string) =>
  restError(409, "duplicate", `Already Exists: Job ${config.project}:${config.location}.${jobId}`);
const backendUnavailable = () =>
  restError(503, "backendError", "Error encountered during execution. Retrying may solve the problem.");
const rateLimited = () =>
  restError(403, "rateLimitExceeded", "Exceeded rate limits: too many table update operations for this table.");
const quotaSpent = () =>
  restError(403, "quotaExceeded", "Quota exceeded: Your table exceeded quota for imports or query appends per table.");
const schemaRefused = () =>
  restError(
    400,
    "invalid",
    "Provided Schema does not match Table my-project:clickstream.hourly_activity. Field visits has changed type from INTEGER to STRING",
  );
const connectionReset = () =>
  Object.assign(
    new Error(
      "request to https://bigquery.googleapis.com/bigquery/v2/projects/my-project/jobs failed, reason: socket hang up",
    ),
    {
      name: "FetchError",
      code: "ECONNRESET",
      type: "system",
    },
  );

const job = (jobId: string, status: JobResource["status"], outputRows?: string): JobResource => ({
  jobReference: { projectId: config.project, jobId, location: config.location },
  status,
  statistics: outputRows === undefined ? {} : { load: { outputRows } },
});
const running = (jobId: string) => job(jobId, { state: "RUNNING" });
const loaded = (jobId: string, rows = "3") => job(jobId, { state: "DONE" }, rows);
const failed = (jobId: string, errorResult: { reason?: string; message?: string; location?: string }) =>
  job(jobId, { state: "DONE", errorResult, errors: [errorResult] });
const badRow = (jobId: string) =>
  failed(jobId, {
    reason: "invalid",
    location: URI,
    message:
      "Error while reading data, error message: CSV table encountered too many errors, giving up. Rows: 2; errors: 1. Please look into the errors[] collection for more details.",
  });

type Reply = JobResource | Error;

/** BigQuery as a script: per job id, the answers to successive inserts and gets. */
class ScriptedJobs implements JobsApi {
  readonly inserted: string[] = [];
  readonly configurations = new Map<string, Record<string, unknown>>();
  constructor(
    private readonly inserts: Record<string, Reply[]>,
    private readonly gets: Record<string, Reply[]> = {},
  ) {}
  async insert(jobId: string, configuration: Record<string, unknown>): Promise<JobResource> {
    this.inserted.push(jobId);
    this.configurations.set(jobId, configuration);
    return this.answer(this.inserts, jobId, "insert");
  }
  async get(jobId: string): Promise<JobResource> {
    return this.answer(this.gets, jobId, "get");
  }
  private answer(script: Record<string, Reply[]>, jobId: string, what: string): JobResource {
    const replies = script[jobId];
    if (!replies?.length) throw new Error(`unexpected ${what} of ${jobId}`);
    const reply = replies.length > 1 ? replies.shift()! : replies[0];
    if (reply instanceof Error) throw reply;
    return reply;
  }
}

const ROWS = "2026-11-26 07:00:00,P000001,7,2,20261126T150512123456Z\n";
const STORED = objectsHolding({ [`${OBJECT.bucket}/${NAME}`]: { generation: OBJECT.generation, content: ROWS } });

function harness(jobs: ScriptedJobs, maxWaitMs = 60000, objects = STORED) {
  let clock = 0;
  const lines: { severity: Severity; message: string; fields: LogFields }[] = [];
  const wait: WaitPolicy = { maxWaitMs, now: () => clock, sleep: async (ms) => void (clock += ms) };
  const deps: LoaderDeps = {
    config,
    jobs,
    wait,
    objects,
    log: (severity, message, fields) => lines.push({ severity, message, fields }),
  };
  const run = (e: object = event): Promise<LoadResult> => handleObjectFinalized(e as typeof event, deps);
  /** Delivers the event again after every TransientLoadError, as the platform does; counts the deliveries. */
  const runUntilAcknowledged = async (): Promise<{ deliveries: number; result: LoadResult }> => {
    for (let deliveries = 1; deliveries <= 10; deliveries++) {
      try {
        return { deliveries, result: await run() };
      } catch (err) {
        if (!(err instanceof TransientLoadError)) throw err;
      }
    }
    throw new Error("still retried after 10 deliveries");
  };
  return { run, runUntilAcknowledged, lines };
}

/** A job whose first insert fails with errorResult; later inserts of its id find it (409) and get the failure. */
const failsOnce = (ids: string[], errorResult: { reason: string; message: string; location?: string }) => ({
  inserts: Object.fromEntries(ids.map((id) => [id, [failed(id, errorResult), alreadyExists(id)]])),
  gets: Object.fromEntries(ids.map((id) => [id, [failed(id, errorResult)]])),
});

describe("loading a published file", () => {
  test("an object replaced while its load ran gets no lineage row, and the event is acknowledged as rejected", async () => {
    const jobs = new ScriptedJobs({ [LOAD]: [loaded(LOAD)], [LOG]: [job(LOG, { state: "DONE" })] });
    let reads = 0;
    const replaced = {
      ...STORED,
      liveGeneration: async () => (++reads === 1 ? OBJECT.generation : "1764169599999999"),
    };
    const result = await harness(jobs, 60000, replaced).run();
    expect(result).toMatchObject({ status: "rejected", loadJobId: LOAD });
    expect((result as { reason: string }).reason).toMatch(/replaced by generation 1764169599999999 during its load/);
    expect(jobs.inserted).toEqual([LOAD]);
  });

  test("submits one CSV load: append-only, the contract's schema, no header, no bad rows tolerated", async () => {
    const jobs = new ScriptedJobs({ [LOAD]: [loaded(LOAD)], [LOG]: [job(LOG, { state: "DONE" })] });
    expect(await harness(jobs).run()).toEqual({ status: "loaded", loadJobId: LOAD, outputRows: 3, redelivered: false });
    expect(jobs.inserted).toEqual([LOAD, LOG]);
    expect(jobs.configurations.get(LOAD)).toMatchObject({
      load: {
        sourceUris: [URI],
        destinationTable: { projectId: "my-project", datasetId: "clickstream", tableId: "hourly_activity" },
        sourceFormat: "CSV",
        writeDisposition: "WRITE_APPEND",
        createDisposition: "CREATE_NEVER",
        skipLeadingRows: 0,
        maxBadRecords: 0,
        schema: {
          fields: [
            expect.objectContaining({ name: "hour", type: "TIMESTAMP", mode: "REQUIRED" }),
            expect.objectContaining({ name: "product_id", type: "STRING" }),
            expect.objectContaining({ name: "visits", type: "INT64" }),
            expect.objectContaining({ name: "cart_adds", type: "INT64" }),
            expect.objectContaining({ name: "run_id", type: "STRING" }),
          ],
        },
      },
    });
    expect(JSON.stringify(jobs.configurations.get(LOG))).toContain("hourly_activity_loads");
  });

  test("a redelivery whose job id already exists (409) and succeeded loads nothing more and succeeds", async () => {
    const jobs = new ScriptedJobs(
      { [LOAD]: [alreadyExists(LOAD)], [LOG]: [alreadyExists(LOG)] },
      { [LOAD]: [loaded(LOAD, "5")], [LOG]: [job(LOG, { state: "DONE" })] },
    );
    const h = harness(jobs);
    expect(await h.run()).toEqual({ status: "loaded", loadJobId: LOAD, outputRows: 5, redelivered: true });
    expect(jobs.inserted).toEqual([LOAD, LOG]);
    expect(h.lines.map((l) => l.message)).toEqual(["already loaded by an earlier delivery"]);
  });

  test("a 409 for a job still running waits for it, then succeeds when it does", async () => {
    const jobs = new ScriptedJobs(
      { [LOAD]: [alreadyExists(LOAD)], [LOG]: [job(LOG, { state: "DONE" })] },
      { [LOAD]: [running(LOAD), running(LOAD), loaded(LOAD)] },
    );
    expect(await harness(jobs).run()).toMatchObject({ status: "loaded", redelivered: true });
  });

  test("a job still running after the wait limit throws, so that a redelivery checks it again", async () => {
    const jobs = new ScriptedJobs({ [LOAD]: [alreadyExists(LOAD)] }, { [LOAD]: [running(LOAD)] });
    const err = await harness(jobs, 10000)
      .run()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientLoadError);
    expect((err as Error).message).toMatch(/still RUNNING after 10 s/);
  });

  test("a 409 for a job that failed on the file is acknowledged as rejected, with the object and reason logged", async () => {
    const jobs = new ScriptedJobs({ [LOAD]: [alreadyExists(LOAD)] }, { [LOAD]: [badRow(LOAD)] });
    const h = harness(jobs);
    expect(await h.run()).toMatchObject({
      status: "rejected",
      loadJobId: LOAD,
      reason: expect.stringMatching(/^invalid: Error while reading data/),
    });
    expect(h.lines).toEqual([
      expect.objectContaining({
        severity: "ERROR",
        fields: expect.objectContaining({
          object: NAME,
          generation: OBJECT.generation,
          reason: expect.stringMatching(/^invalid/),
        }),
      }),
    ]);
  });

  test("a job that failed transiently throws, and the redelivery retries under the next attempt's id, which later ones find again", async () => {
    const retry = loadJobIdFor(OBJECT, 1);
    const internal = {
      reason: "backendError",
      message: "Error encountered during execution. Retrying may solve the problem.",
    };
    const first = new ScriptedJobs(
      {
        [LOAD]: [failed(LOAD, internal), alreadyExists(LOAD)],
        [retry]: [loaded(retry)],
        [loadLogJobIdFor(retry)]: [job("l", { state: "DONE" })],
      },
      { [LOAD]: [failed(LOAD, internal)] },
    );
    const h = harness(first);
    // Not at once: the platform's backoff lies between the attempts.
    await expect(h.run()).rejects.toBeInstanceOf(TransientLoadError);
    expect(first.inserted).toEqual([LOAD]);
    expect(await h.run()).toMatchObject({ status: "loaded", loadJobId: retry, redelivered: false });
    expect(first.inserted).toEqual([LOAD, LOAD, retry, loadLogJobIdFor(retry)]);

    const redelivery = new ScriptedJobs(
      {
        [LOAD]: [alreadyExists(LOAD)],
        [retry]: [alreadyExists(retry)],
        [loadLogJobIdFor(retry)]: [alreadyExists(loadLogJobIdFor(retry))],
      },
      {
        [LOAD]: [failed(LOAD, internal)],
        [retry]: [loaded(retry)],
        [loadLogJobIdFor(retry)]: [job("l", { state: "DONE" })],
      },
    );
    expect(await harness(redelivery).run()).toMatchObject({ status: "loaded", loadJobId: retry, redelivered: true });
  });

  test(`after ${MAX_LOAD_ATTEMPTS} transiently failed jobs, one per delivery, the event is acknowledged as rejected`, async () => {
    const internal = {
      reason: "internalError",
      message: "An internal error occurred and the request could not be completed.",
    };
    const ids = [0, 1, 2].map((a) => loadJobIdFor(OBJECT, a));
    const { inserts, gets } = failsOnce(ids, internal);
    const jobs = new ScriptedJobs(inserts, gets);
    expect(await harness(jobs).runUntilAcknowledged()).toMatchObject({
      deliveries: MAX_LOAD_ATTEMPTS,
      result: { status: "rejected", reason: expect.stringMatching(/all 3 load attempts failed/) },
    });
    expect([...new Set(jobs.inserted)]).toEqual(ids);
  });

  test.each([
    [
      "the object is gone (superseded by a rerun)",
      "rejected at once",
      { reason: "notFound", message: `Not found: URI ${URI}` },
    ],
    [
      "a row does not parse",
      "rejected at once",
      { reason: "invalid", location: URI, message: "Could not parse 'many' as INT64 for field visits (position 2)" },
    ],
    [
      "the table is missing (the stack is not there yet)",
      "retried under new job ids",
      {
        reason: "notFound",
        message: "Not found: Table my-project:clickstream.hourly_activity was not found in location EU",
      },
    ],
    [
      "of quota",
      "retried under new job ids",
      {
        reason: "quotaExceeded",
        message: "Quota exceeded: Your table exceeded quota for imports or query appends per table.",
      },
    ],
  ])("a job that failed because %s is %s", async (_why, expected, errorResult) => {
    const ids = [0, 1, 2].map((a) => loadJobIdFor(OBJECT, a));
    const { inserts, gets } = failsOnce(ids, errorResult);
    const jobs = new ScriptedJobs(inserts, gets);
    const { deliveries } = await harness(jobs).runUntilAcknowledged();
    expect({ deliveries, ids: [...new Set(jobs.inserted)] }).toEqual(
      expected === "rejected at once" ? { deliveries: 1, ids: [LOAD] } : { deliveries: MAX_LOAD_ATTEMPTS, ids },
    );
  });

  test.each([
    ["BigQuery is unavailable (503)", backendUnavailable],
    ["requests are throttled (403 rateLimitExceeded)", rateLimited],
    ["a longer-term quota is spent (403 quotaExceeded)", quotaSpent],
    ["the connection breaks", connectionReset],
  ])("when %s, the handler throws so that the platform retries", async (_why, error) => {
    const jobs = new ScriptedJobs({ [LOAD]: [error()] });
    await expect(harness(jobs).run()).rejects.toBeInstanceOf(TransientLoadError);
  });

  test("a request BigQuery refuses as invalid (400, schema mismatch) is acknowledged as rejected", async () => {
    const jobs = new ScriptedJobs({ [LOAD]: [schemaRefused()] });
    expect(await harness(jobs).run()).toMatchObject({
      status: "rejected",
      reason: expect.stringMatching(/^invalid: Provided Schema does not match/),
    });
  });

  test("a lineage insert that fails transiently throws; the rows stay loaded once, and the redelivery records it", async () => {
    const jobs = new ScriptedJobs({ [LOAD]: [loaded(LOAD)], [LOG]: [backendUnavailable()] });
    await expect(harness(jobs).run()).rejects.toBeInstanceOf(TransientLoadError);
    const redelivery = new ScriptedJobs(
      { [LOAD]: [alreadyExists(LOAD)], [LOG]: [job(LOG, { state: "DONE" })] },
      { [LOAD]: [loaded(LOAD)] },
    );
    expect(await harness(redelivery).run()).toMatchObject({ status: "loaded", redelivered: true });
    expect(redelivery.inserted).toEqual([LOAD, LOG]);
  });

  test("a lineage insert BigQuery refuses for good is logged once; the rows stay loaded and the event is done", async () => {
    const refused = {
      reason: "invalid",
      message: "Query error: Value of type STRING cannot be assigned to output_rows, which has type INT64",
    };
    const jobs = new ScriptedJobs({ [LOAD]: [loaded(LOAD)], [LOG]: [failed(LOG, refused)] });
    const h = harness(jobs);
    expect(await h.run()).toEqual({ status: "loaded", loadJobId: LOAD, outputRows: 3, redelivered: false });
    expect(jobs.inserted).toEqual([LOAD, LOG]);
    expect(h.lines.filter((l) => l.severity !== "INFO")).toEqual([
      {
        severity: "ERROR",
        message: "loaded, but its lineage row could not be recorded",
        fields: expect.objectContaining({ logJobId: LOG, reason: expect.stringMatching(/^invalid: Query error/) }),
      },
    ]);
  });

  test(`a lineage insert whose ${MAX_LOAD_ATTEMPTS} jobs all fail transiently stops there: logged, the rows loaded once, no further delivery`, async () => {
    const internal = {
      reason: "backendError",
      message: "Error encountered during execution. Retrying may solve the problem.",
    };
    const logIds = [0, 1, 2].map((a) => loadLogJobIdFor(LOAD, a));
    const jobs = new ScriptedJobs({
      [LOAD]: [loaded(LOAD)],
      ...Object.fromEntries(logIds.map((id) => [id, [failed(id, internal)]])),
    });
    const h = harness(jobs);
    expect(await h.run()).toMatchObject({ status: "loaded", loadJobId: LOAD });
    expect(jobs.inserted).toEqual([LOAD, ...logIds]);
    expect(h.lines.filter((l) => l.severity !== "INFO").map((l) => [l.severity, l.message, l.fields.logJobId])).toEqual(
      [
        ["WARNING", "lineage attempt 1 of 3 failed transiently", logIds[0]],
        ["WARNING", "lineage attempt 2 of 3 failed transiently", logIds[1]],
        ["WARNING", "lineage attempt 3 of 3 failed transiently", logIds[2]],
        ["ERROR", "loaded, but its lineage row could not be recorded", logIds[2]],
      ],
    );
  });
});

describe("events that are not published files", () => {
  test.each([
    ["another event type", { ...event, type: "google.cloud.storage.object.v1.deleted" }, /event type/],
    ["another bucket", { ...event, data: { ...event.data, bucket: "my-project-raw" } }, /not the curated bucket/],
    [
      "an object outside hourly/",
      { ...event, data: { ...event.data, name: "staging/x.csv" } },
      /outside the published prefix/,
    ],
    [
      "a marker file",
      { ...event, data: { ...event.data, name: "hourly/dt=2026-11-26/hr=07/run_id=r1/_SUCCESS" } },
      /not named/,
    ],
    [
      "an event without a generation",
      { ...event, data: { bucket: OBJECT.bucket, name: NAME } },
      /no bucket, object and generation/,
    ],
  ])("%s is logged and acknowledged without a job", async (_what, e, reason) => {
    const jobs = new ScriptedJobs({});
    const h = harness(jobs);
    expect(await h.run(e)).toEqual({ status: "ignored", reason: expect.stringMatching(reason) });
    expect(jobs.inserted).toEqual([]);
    expect(h.lines).toEqual([expect.objectContaining({ severity: "INFO", message: expect.stringMatching(reason) })]);
  });
});

describe("what the event announces against what is stored", () => {
  const stored = (generation: string, content: string) =>
    objectsHolding({ [`${OBJECT.bucket}/${NAME}`]: { generation, content } });
  const withGeneration = (generation: unknown) => ({ ...event, data: { ...event.data, generation } });

  test("a generation given as a number is read as its digits", async () => {
    const generation = "176416951212345";
    const byNumber = loadJobIdFor({ ...OBJECT, generation });
    const jobs = new ScriptedJobs({
      [byNumber]: [loaded(byNumber)],
      [loadLogJobIdFor(byNumber)]: [job("l", { state: "DONE" })],
    });
    const result = await harness(jobs, 60000, stored(generation, ROWS)).run(withGeneration(Number(generation)));
    expect(result).toEqual({ status: "loaded", loadJobId: byNumber, outputRows: 3, redelivered: false });
  });

  test.each([
    [true, "the event's generation is a boolean, not a decimal generation"],
    [{ n: 1 }, "the event's generation is a object, not a decimal generation"],
    ["17641695x", 'the event\'s generation "17641695x" is not decimal digits'],
    ["1".repeat(50), `the event's generation "${"1".repeat(40)}" is not decimal digits`],
    [-5, 'the event\'s generation "-5" is not decimal digits'],
  ])("a generation %j is rejected without a job: %s", async (generation, reason) => {
    const jobs = new ScriptedJobs({});
    const h = harness(jobs);
    expect(await h.run(withGeneration(generation))).toEqual({ status: "rejected", loadJobId: undefined, reason });
    expect(jobs.inserted).toEqual([]);
    expect(h.lines).toEqual([
      {
        severity: "ERROR",
        message: "not loaded: the file cannot be loaded as published; acknowledged without retry",
        fields: { bucket: OBJECT.bucket, object: NAME, eventId: event.id, reason },
      },
    ]);
  });

  test.each([
    ["no data at all", { type: event.type, id: event.id }],
    ["an empty bucket", { ...event, data: { ...event.data, bucket: "" } }],
    ["an empty object name", { ...event, data: { ...event.data, name: "" } }],
    ["an empty generation", { ...event, data: { ...event.data, generation: "" } }],
  ])("an event with %s is ignored, its log naming what it had", async (_what, e) => {
    const jobs = new ScriptedJobs({});
    const h = harness(jobs);
    expect(await h.run(e)).toEqual({ status: "ignored", reason: "the event names no bucket, object and generation" });
    const data = (e as { data?: Record<string, unknown> }).data;
    expect(h.lines).toEqual([
      {
        severity: "INFO",
        message: "ignored: the event names no bucket, object and generation",
        fields: { bucket: data?.bucket, object: data?.name, generation: data?.generation, eventId: event.id },
      },
    ]);
  });

  test("an ignored event's log gives its generation only when it is text", async () => {
    const h = harness(new ScriptedJobs({}));
    await h.run({ ...event, type: "google.cloud.storage.object.v1.deleted", data: { ...event.data, generation: 17 } });
    expect(h.lines[0].fields).toEqual({
      bucket: OBJECT.bucket,
      object: NAME,
      generation: undefined,
      eventId: event.id,
    });
  });

  test("an object that no longer exists is ignored: a later run of the hour replaced it", async () => {
    const h = harness(new ScriptedJobs({}), 60000, objectsHolding({}));
    expect(await h.run()).toEqual({
      status: "ignored",
      reason: "the object no longer exists (a later run of the hour replaced it)",
    });
  });

  test("an event for a generation that is no longer the live one is rejected: that generation's own event loads it", async () => {
    const jobs = new ScriptedJobs({});
    const h = harness(jobs, 60000, stored("1764169599999999", ROWS));
    const reason = `the event announces generation ${OBJECT.generation} but the live generation is 1764169599999999; that generation's own event loads it`;
    expect(await h.run()).toEqual({ status: "rejected", loadJobId: undefined, reason });
    expect(h.lines[0].fields).toEqual({
      bucket: OBJECT.bucket,
      object: NAME,
      eventId: event.id,
      generation: OBJECT.generation,
      reason,
    });
    expect(jobs.inserted).toEqual([]);
  });

  test("a generation live when asked but gone when read is ignored", async () => {
    const gone = { ...STORED, read: async () => undefined };
    expect(await harness(new ScriptedJobs({}), 60000, gone).run()).toEqual({
      status: "ignored",
      reason: `generation ${OBJECT.generation} is no longer stored`,
    });
  });

  test("a file holding a row of another hour is rejected whole, before any job", async () => {
    const jobs = new ScriptedJobs({});
    const foreign = ROWS + "2026-11-26 08:00:00,P000002,1,0,20261126T150512123456Z\n";
    const h = harness(jobs, 60000, stored(OBJECT.generation, foreign));
    const reason =
      'row 2 is of hour "2026-11-26 08:00:00", not the object name\'s 2026-11-26 07:00:00; nothing of the file was loaded';
    expect(await h.run()).toEqual({ status: "rejected", loadJobId: undefined, reason });
    expect(h.lines[0].fields).toEqual({
      bucket: OBJECT.bucket,
      object: NAME,
      eventId: event.id,
      generation: OBJECT.generation,
      loadJobId: LOAD,
      reason,
    });
    expect(jobs.inserted).toEqual([]);
  });

  test.each([
    ["empty", ""],
    ["only the column names", "hour,product_id,visits,cart_adds,run_id\n"],
  ])("a quiet hour's file (%s) loads nothing but records its lineage with zero rows", async (_what, content) => {
    const jobs = new ScriptedJobs({ [LOG]: [job(LOG, { state: "DONE" })] });
    const h = harness(jobs, 60000, stored(OBJECT.generation, content));
    expect(await h.run()).toEqual({ status: "loaded", loadJobId: LOAD, outputRows: 0, redelivered: false });
    expect(jobs.inserted).toEqual([LOG]);
    expect(JSON.stringify(jobs.configurations.get(LOG))).toContain(
      '{"name":"output_rows","parameterType":{"type":"INT64"},"parameterValue":{"value":"0"}}',
    );
    expect(h.lines).toEqual([
      {
        severity: "INFO",
        message: "loaded",
        fields: {
          bucket: OBJECT.bucket,
          object: NAME,
          generation: OBJECT.generation,
          loadJobId: LOAD,
          eventId: event.id,
          outputRows: 0,
          hour: "2026-11-26T07:00:00Z",
          runId: "20261126T150512123456Z",
        },
      },
    ]);
  });

  test("a load whose object was deleted after it ran still records its lineage", async () => {
    const jobs = new ScriptedJobs({ [LOAD]: [loaded(LOAD)], [LOG]: [job(LOG, { state: "DONE" })] });
    let asked = 0;
    const deleted = { ...STORED, liveGeneration: async () => (++asked === 1 ? OBJECT.generation : undefined) };
    expect(await harness(jobs, 60000, deleted).run()).toMatchObject({ status: "loaded", outputRows: 3 });
    expect(jobs.inserted).toEqual([LOAD, LOG]);
  });

  test("a done load that reports no load statistics, or no statistics at all, counts zero rows", async () => {
    const jobs = new ScriptedJobs({ [LOAD]: [job(LOAD, { state: "DONE" })], [LOG]: [job(LOG, { state: "DONE" })] });
    expect(await harness(jobs).run()).toMatchObject({ status: "loaded", outputRows: 0 });
    const bare = new ScriptedJobs({
      [LOAD]: [{ jobReference: { jobId: LOAD }, status: { state: "DONE" } }],
      [LOG]: [job(LOG, { state: "DONE" })],
    });
    expect(await harness(bare).run()).toMatchObject({ status: "loaded", outputRows: 0 });
  });
});

describe("the record of each attempt", () => {
  test("a transient failure is logged as attempt 1 of 3 and thrown with its reason, or 'unknown' without one", async () => {
    const jobs = new ScriptedJobs({ [LOAD]: [failed(LOAD, { reason: "backendError", message: "try again" })] });
    const h = harness(jobs);
    const err = (await h.run().catch((e: unknown) => e)) as TransientLoadError;
    expect(err.message).toBe(
      `load job ${LOAD} failed (backendError: try again); a redelivery retries under the next job id`,
    );
    expect(err.reason).toBe("backendError");
    expect(h.lines).toEqual([
      {
        severity: "WARNING",
        message: "load attempt 1 of 3 failed transiently",
        fields: {
          bucket: OBJECT.bucket,
          object: NAME,
          generation: OBJECT.generation,
          loadJobId: LOAD,
          eventId: event.id,
          reason: "backendError: try again",
        },
      },
    ]);
    const unnamed = new ScriptedJobs({ [LOAD]: [job(LOAD, { state: "DONE", errorResult: {} })] });
    const anonymous = (await harness(unnamed)
      .run()
      .catch((e: unknown) => e)) as TransientLoadError;
    expect(anonymous.message).toBe(`load job ${LOAD} failed (unknown: ); a redelivery retries under the next job id`);
    expect(anonymous.reason).toBe("unknown");
  });

  test("the last attempt's rejection names the last attempt's job id and the fields of the object", async () => {
    const internal = { reason: "internalError", message: "internal" };
    const ids = [0, 1, 2].map((a) => loadJobIdFor(OBJECT, a));
    const { inserts, gets } = failsOnce(ids, internal);
    const h = harness(new ScriptedJobs(inserts, gets));
    const { result } = await h.runUntilAcknowledged();
    const reason = "all 3 load attempts failed; reload the object by hand after fixing the cause";
    expect(result).toEqual({ status: "rejected", loadJobId: ids[2], reason });
    expect(h.lines[h.lines.length - 1]).toEqual({
      severity: "ERROR",
      message: "not loaded: the file cannot be loaded as published; acknowledged without retry",
      fields: {
        bucket: OBJECT.bucket,
        object: NAME,
        generation: OBJECT.generation,
        loadJobId: ids[2],
        eventId: event.id,
        reason,
      },
    });
  });

  test("a lineage job that ended with a permanent error is logged once and not tried again", async () => {
    const refused = { reason: "invalid", message: "bad parameter" };
    const jobs = new ScriptedJobs({ [LOAD]: [loaded(LOAD)], [LOG]: [failed(LOG, refused)] });
    const h = harness(jobs);
    await h.run();
    expect(jobs.inserted).toEqual([LOAD, LOG]);
    expect(h.lines.filter((l) => l.severity === "ERROR").map((l) => l.fields.reason)).toEqual([
      "invalid: bad parameter",
    ]);
  });

  test("a lineage insert BigQuery refuses as a request (400) is logged once; the rows stay loaded", async () => {
    const jobs = new ScriptedJobs({ [LOAD]: [loaded(LOAD)], [LOG]: [schemaRefused()] });
    const h = harness(jobs);
    expect(await h.run()).toMatchObject({ status: "loaded", loadJobId: LOAD });
    expect(h.lines.filter((l) => l.severity === "ERROR").map((l) => [l.message, l.fields.logJobId])).toEqual([
      ["loaded, but its lineage row could not be recorded", LOG],
    ]);
  });

  test("a lineage job that failed without a reason or a message is retried, and its warning says so", async () => {
    const logIds = [0, 1, 2].map((a) => loadLogJobIdFor(LOAD, a));
    const jobs = new ScriptedJobs({
      [LOAD]: [loaded(LOAD)],
      [logIds[0]]: [failed(logIds[0], {})],
      [logIds[1]]: [job(logIds[1], { state: "DONE" })],
    });
    const h = harness(jobs);
    expect(await h.run()).toMatchObject({ status: "loaded", loadJobId: LOAD });
    expect(jobs.inserted).toEqual([LOAD, logIds[0], logIds[1]]);
    expect(h.lines.filter((l) => l.severity !== "INFO").map((l) => [l.message, l.fields.reason])).toEqual([
      ["lineage attempt 1 of 3 failed transiently", "unknown: "],
    ]);
  });

  test("a lineage whose every attempt failed says so", async () => {
    const internal = { reason: "backendError", message: "again" };
    const logIds = [0, 1, 2].map((a) => loadLogJobIdFor(LOAD, a));
    const jobs = new ScriptedJobs({
      [LOAD]: [loaded(LOAD)],
      ...Object.fromEntries(logIds.map((id) => [id, [failed(id, internal)]])),
    });
    const h = harness(jobs);
    await h.run();
    expect(h.lines.filter((l) => l.severity === "ERROR").map((l) => l.fields)).toEqual([
      expect.objectContaining({ logJobId: logIds[2], reason: "all 3 attempts failed" }),
    ]);
  });
});
