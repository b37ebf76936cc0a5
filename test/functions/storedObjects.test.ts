// Where the loader reads a published object's live generation and content: a folder (the sandbox's and the
// tests' Cloud Storage), on real files; and the adapter over the Cloud Storage client, judged on the calls it
// makes, with the client standing in (it cannot run inside jest, see bigqueryJobs.test.ts) and its not-found
// answer as the library's own ApiError.
import { Storage } from "@google-cloud/storage";
import { util } from "@google-cloud/common";
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cloudStorageObjects, folderGeneration, folderObjects } from "../../functions/loader/src/storedObjects";

describe("a folder standing for Cloud Storage", () => {
  let root: string;
  const NAME = "hourly/dt=2026-11-26/hr=07/part-00000.csv";
  const path = () => join(root, "curated", NAME);

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "stored-objects-"));
    mkdirSync(join(root, "curated", "hourly/dt=2026-11-26/hr=07"), { recursive: true });
    writeFileSync(path(), "hour,product_id\n");
    // 2026-11-26T08:05:12.123456Z, as Cloud Storage would stamp the write, in microseconds.
    utimesSync(path(), 1764144312.123456, 1764144312.123456);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it("gives each file's modification time in whole microseconds as its generation", () => {
    expect(folderGeneration(path())).toMatch(/^1764144312123\d{3}$/);
    expect(folderGeneration(join(root, "curated", "missing.csv"))).toBeUndefined();
  });

  it("reads the live generation of an object, and none of an object that does not exist", async () => {
    const objects = folderObjects(root);
    expect(await objects.liveGeneration("curated", NAME)).toBe(folderGeneration(path()));
    expect(await objects.liveGeneration("curated", "hourly/missing.csv")).toBeUndefined();
    expect(await objects.liveGeneration("elsewhere", NAME)).toBeUndefined();
  });

  it("reads the content of the live generation asked for, and nothing of any other", async () => {
    const objects = folderObjects(root);
    const live = folderGeneration(path())!;
    expect((await objects.read("curated", NAME, live))?.toString()).toBe("hour,product_id\n");
    expect(await objects.read("curated", NAME, String(BigInt(live) - 1n))).toBeUndefined();
    expect(await objects.read("curated", "hourly/missing.csv", live)).toBeUndefined();
  });

  it("reads nothing of a generation that was rewritten since", async () => {
    const objects = folderObjects(root);
    const first = folderGeneration(path())!;
    writeFileSync(path(), "hour,product_id\n2026-11-26T07,p1\n");
    utimesSync(path(), 1764144400, 1764144400);
    expect(await objects.read("curated", NAME, first)).toBeUndefined();
  });

  it("reads nothing of a path that is a folder, whatever generation it is asked for", async () => {
    const objects = folderObjects(root);
    const folder = "hourly/dt=2026-11-26/hr=07";
    expect(await objects.read("curated", folder, folderGeneration(join(root, "curated", folder))!)).toBeUndefined();
  });
});

describe("the Cloud Storage adapter", () => {
  const notFound = () =>
    util.parseHttpRespBody(JSON.stringify({ error: { code: 404, message: "No such object" } })).err;
  const denied = () => util.parseHttpRespBody(JSON.stringify({ error: { code: 403, message: "Forbidden" } })).err;

  /** A client whose file answers with `metadata` and `download`; records each file asked for. */
  function storage(metadata: () => Promise<unknown>, download: () => Promise<unknown>) {
    const asked: unknown[] = [];
    const fake = {
      bucket: (bucket: string) => ({
        file: (name: string, options?: unknown) => {
          asked.push(options === undefined ? [bucket, name] : [bucket, name, options]);
          return { getMetadata: metadata, download };
        },
      }),
    };
    return { asked, objects: cloudStorageObjects(fake as unknown as Storage) };
  }
  const never = () => Promise.reject(new Error("not called"));

  it("reads an object's live generation as decimal digits, and none of an object that does not exist", async () => {
    const found = storage(() => Promise.resolve([{ generation: 1764144312123456 }]), never);
    expect(await found.objects.liveGeneration("curated", "o.csv")).toBe("1764144312123456");
    expect(found.asked).toEqual([["curated", "o.csv"]]);
    const missing = storage(() => Promise.reject(notFound()), never);
    expect(await missing.objects.liveGeneration("curated", "o.csv")).toBeUndefined();
    const noGeneration = storage(() => Promise.resolve([{}]), never);
    expect(await noGeneration.objects.liveGeneration("curated", "o.csv")).toBeUndefined();
  });

  it("downloads exactly the generation asked for, and nothing once it is gone", async () => {
    const found = storage(never, () => Promise.resolve([Buffer.from("hour\n")]));
    expect((await found.objects.read("curated", "o.csv", "17"))?.toString()).toBe("hour\n");
    expect(found.asked).toEqual([["curated", "o.csv", { generation: "17" }]]);
    const gone = storage(never, () => Promise.reject(notFound()));
    expect(await gone.objects.read("curated", "o.csv", "17")).toBeUndefined();
  });

  it("passes on every other failure, for the platform to deliver the event again", async () => {
    const err = denied();
    const failing = storage(
      () => Promise.reject(err),
      () => Promise.reject(err),
    );
    await expect(failing.objects.liveGeneration("curated", "o.csv")).rejects.toBe(err);
    await expect(failing.objects.read("curated", "o.csv", "17")).rejects.toBe(err);
  });
});
