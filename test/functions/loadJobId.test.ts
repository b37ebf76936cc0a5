import { JOB_ID_PATTERN, loadJobIdFor, loadLogJobIdFor } from "../../functions/loader/src/loadJobId";

const object = {
  bucket: "proj-curated",
  name: "hourly/dt=2026-11-26/hr=07/run_id=20261126T150512123456Z/part-00000.csv",
  generation: "1764169512123456",
};

// Worked out apart from the code: printf 'BUCKET\nNAME\nGENERATION' | sha256sum | cut -c1-32
const READABLE = "hourly_load_dt_2026-11-26_hr_07_run_id_20261126T150512123456Z";

describe("load job ids", () => {
  test("are fixed for a given bucket, name and generation, and readable in job lists", () => {
    expect(loadJobIdFor(object)).toBe(`${READABLE}_part-00000_csv_dee75487848a11d5d5c0a7bdac69e16f`);
    expect(loadJobIdFor({ ...object, bucket: "other-curated" })).toBe(
      `${READABLE}_part-00000_csv_fdbbf4035f9d9a598e32a1d4f59becea`,
    );
    expect(loadJobIdFor({ ...object, generation: "1764169512123457" })).toBe(
      `${READABLE}_part-00000_csv_6eaa3692852fd2038f03c486b2e3ea65`,
    );
    expect(loadJobIdFor({ ...object, name: object.name.replace("part-00000", "part-00001") })).toBe(
      `${READABLE}_part-00001_csv_ec7b9fa66d751a8588027d6f21e7d1ed`,
    );
    expect(loadJobIdFor(object, 2)).toBe(`${READABLE}_part-00000_csv_dee75487848a11d5d5c0a7bdac69e16f_retry2`);
  });

  test("use only BigQuery's job id characters and stay within its length limit, whatever the name", () => {
    const odd = { bucket: "b", name: `hourly/${"ü ./=+".repeat(400)}`, generation: "1" };
    for (const id of [
      loadJobIdFor(object),
      loadJobIdFor(odd),
      loadJobIdFor(odd, 2),
      loadLogJobIdFor(loadJobIdFor(odd), 2),
    ]) {
      expect(id).toMatch(JOB_ID_PATTERN);
      expect(id.length).toBeLessThanOrEqual(1024);
    }
    expect(loadJobIdFor(odd).length).toBeLessThan(250);
    // A long name of job id characters is cut, not kept whole.
    const long = loadJobIdFor({ bucket: "b", name: `hourly/${"a".repeat(2000)}`, generation: "1" });
    expect(long.length).toBeLessThan(250);
    expect(long).toMatch(/^hourly_load_a+_[0-9a-f]{32}$/);
    // Runs of other characters become one underscore; only the leading hourly/ is dropped.
    expect(loadJobIdFor({ bucket: "b", name: "hourly/a//b/hourly/c", generation: "1" })).toMatch(
      /^hourly_load_a_b_hourly_c_[0-9a-f]{32}$/,
    );
    expect(loadJobIdFor({ bucket: "b", name: "x/hourly/c", generation: "1" })).toMatch(
      /^hourly_load_x_hourly_c_[0-9a-f]{32}$/,
    );
  });

  test("differ for another generation, another bucket, another attempt, and names that sanitise alike", () => {
    const ids = [
      loadJobIdFor(object),
      loadJobIdFor({ ...object, generation: "1764169512123457" }),
      loadJobIdFor({ ...object, bucket: "other-curated" }),
      loadJobIdFor(object, 1),
      loadJobIdFor({
        ...object,
        name: object.name.replace("run_id=20261126T150512123456Z", "run_id=20261126T150512123456Z."),
      }),
      loadJobIdFor({
        ...object,
        name: object.name.replace("run_id=20261126T150512123456Z", "run_id=20261126T150512123456Z_"),
      }),
    ];
    expect(new Set(ids).size).toBe(ids.length);
  });

  test("of the lineage job derive from the load's id", () => {
    expect(loadLogJobIdFor("hourly_load_x_abc")).toBe("hourly_load_x_abc_logged");
    expect(loadLogJobIdFor("hourly_load_x_abc", 1)).toBe("hourly_load_x_abc_logged_retry1");
  });
});
