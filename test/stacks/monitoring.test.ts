// The monitoring component under Pulumi's mocks, checked against what Google documents for each resource:
// metric types and the resource types they are written on, the filter grammar, condition limits.
import * as pulumi from "@pulumi/pulumi";
import {
  DAG_TASK_FAILED,
  FILE_REJECTED,
  HOUR_COMPLETE,
  HOUR_LOADED,
  LogLine,
  NOT_LOADED,
  OFFSETS_LOST,
} from "../../contract/logLines";
import { parseStackConfig, StackConfigError } from "../../stacks/config";
import { GOOGLE_METRICS, Monitoring, USER_METRIC_PREFIX } from "../../stacks/monitoring";

/**
 * Metric types Google defines, each with the monitored resource type it is written on, as listed in
 * https://cloud.google.com/monitoring/api/metrics_gcp (Dataproc, Cloud Storage, Cloud Composer, Cloud Run).
 */
const GOOGLE_DEFINED: Record<string, string> = {
  "dataproc.googleapis.com/cluster/job/running_count": "cloud_dataproc_cluster",
  "storage.googleapis.com/api/request_count": "gcs_bucket",
  "composer.googleapis.com/workflow/run_count": "cloud_composer_workflow",
  "composer.googleapis.com/workflow/run_duration": "cloud_composer_workflow",
  "run.googleapis.com/request_count": "cloud_run_revision",
};

interface Comparison {
  selector: string;
  op: string;
  value: string;
}

/**
 * The subset of the Cloud Monitoring filter grammar the stack writes: comparisons joined by AND, each a
 * selector (metric.type, resource.type, metric.label.K, resource.label.K, or the plural `labels`), `=` or
 * `!=`, and a double-quoted string. Throws on anything else.
 */
function parseMonitoringFilter(filter: string): Comparison[] {
  const term =
    /^\s*(metric\.type|resource\.type|(?:metric|resource)\.labels?\.[a-z_][a-z0-9_]*)\s*(!=|=)\s*("(?:[^"\\]|\\.)*")\s*/;
  const comparisons: Comparison[] = [];
  let rest = filter;
  for (;;) {
    const m = term.exec(rest);
    if (!m) throw new Error(`not a monitoring filter at: '${rest}' in '${filter}'`);
    comparisons.push({ selector: m[1], op: m[2], value: JSON.parse(m[3]) as string });
    rest = rest.slice(m[0].length);
    if (rest === "") return comparisons;
    const and = /^AND\s+/.exec(rest);
    if (!and) throw new Error(`expected AND at: '${rest}' in '${filter}'`);
    rest = rest.slice(and[0].length);
  }
}

/** The one metric type a filter selects, after checking the filter parses and names one metric type. */
function metricTypeOf(filter: string): { metricType: string; resourceType?: string } {
  const terms = parseMonitoringFilter(filter);
  const metric = terms.filter((t) => t.selector === "metric.type" && t.op === "=");
  const resource = terms.filter((t) => t.selector === "resource.type" && t.op === "=");
  if (metric.length !== 1) throw new Error(`a filter must name exactly one metric.type: ${filter}`);
  return { metricType: metric[0].value, resourceType: resource[0]?.value };
}

const seconds = (duration: string): number => {
  const m = /^(\d+)s$/.exec(duration);
  if (!m) throw new Error(`not a duration in seconds: ${duration}`);
  return Number(m[1]);
};

interface Declared {
  type: string;
  name: string;
  inputs: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}
const declared: Declared[] = [];
const ofType = (type: string, stack: string) =>
  declared.filter((r) => r.type === type && r.name.startsWith(`${stack}-`));
const alertsOf = (stack: string) => ofType("gcp:monitoring/alertPolicy:AlertPolicy", stack);
const metricsOf = (stack: string) => ofType("gcp:logging/metric:Metric", stack);
const alertNamed = (stack: string, key: string) => declared.find((r) => r.name === `${stack}-${key}`)!;
const dashboardUrls: Record<string, string> = {};

beforeAll(async () => {
  pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        declared.push({ type: args.type, name: args.name, inputs: args.inputs });
        // Google's output shapes: projects/P/notificationChannels/ID and projects/P/dashboards/ID.
        if (args.type === "gcp:monitoring/notificationChannel:NotificationChannel") {
          return {
            id: `${args.name}-id`,
            state: { ...args.inputs, name: `projects/p/notificationChannels/${args.name}-7` },
          };
        }
        const id =
          args.type === "gcp:monitoring/dashboard:Dashboard"
            ? `projects/123456789012/dashboards/${args.name}-42`
            : `${args.name}-id`;
        return { id, state: { ...args.inputs } };
      },
      call: () => ({}),
    },
    "clickstream-pipeline",
    "dev",
    false,
  );
  const targets = {
    streamClusterName: "clickstream-stream",
    rawBucketName: "p-raw",
    composerEnvironmentName: "clickstream-composer",
    loaderServiceName: "clickstream-loader",
  };
  const quiet = new Monitoring("quiet", {
    ...parseStackConfig({ "gcp:project": "my-clickstream-dev", "clickstream-pipeline:namePrefix": "clickstream" }),
    ...targets,
  });
  const paged = new Monitoring("paged", {
    ...parseStackConfig({
      "gcp:project": "my-clickstream-dev",
      "clickstream-pipeline:namePrefix": "clickstream",
      "clickstream-pipeline:alertEmail": "ops@example.com",
      "clickstream-pipeline:freshnessMinutes": "120",
    }),
    ...targets,
  });
  quiet.dashboardUrl.apply((url) => (dashboardUrls.quiet = url));
  paged.dashboardUrl.apply((url) => (dashboardUrls.paged = url));
  await pulumi.runtime.disconnect();
});

type Condition = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const conditionsOf = (stack: string): Condition[] => alertsOf(stack).flatMap((a) => a.inputs.conditions as Condition[]);
const conditionBody = (c: Condition) => c.conditionThreshold ?? c.conditionAbsent;

describe("the pipeline's alert policies", () => {
  it("cover freshness, failed DAG tasks, loader errors, objects not loaded, the streaming job, lost offsets, silent raw writes and the quarantine share", () => {
    expect(
      alertsOf("quiet")
        .map((a) => a.name)
        .sort(),
    ).toEqual([
      "quiet-dag-task-failed",
      "quiet-freshness",
      "quiet-loader-errors",
      "quiet-objects-not-loaded",
      "quiet-offsets-lost",
      "quiet-quarantine-share",
      "quiet-raw-silent",
      "quiet-streaming-job",
    ]);
  });

  it("fire on the first \"published object not loaded\" line of the DAG's reconcile task, counted from Composer's task log", () => {
    const metric = declared.find(
      (r) => r.name === "quiet-objects-not-loaded" && r.type === "gcp:logging/metric:Metric",
    )!;
    expect(metric.inputs.filter).toContain(`textPayload=~${JSON.stringify(NOT_LOADED.pattern)}`);
    expect(metric.inputs.filter).toContain(
      'resource.type="cloud_composer_environment" AND resource.labels.environment_name="clickstream-composer"',
    );
    const line = `published object not loaded: ${JSON.stringify({ bucket: "b", object: "hourly/dt=2026-11-26/hr=14/run_id=R/part-00000.csv", generation: "17" })}`;
    expect(new RegExp(NOT_LOADED.pattern).test(line)).toBe(true);
    const [condition] = alertsOf("quiet").find((a) => a.name === "quiet-objects-not-loaded")!.inputs.conditions;
    expect(condition.conditionThreshold).toMatchObject({
      comparison: "COMPARISON_GT",
      thresholdValue: 0,
      duration: "0s",
    });
    expect(condition.conditionThreshold.filter).toBe(`metric.type="logging.googleapis.com/user/${metric.inputs.name}"`);
  });

  it('fire on the first "offsets lost" line of the streaming job, counted from its driver log', () => {
    const metric = declared.find((r) => r.name === "quiet-offsets-lost" && r.type === "gcp:logging/metric:Metric")!;
    expect(metric.inputs.filter).toContain(`textPayload=~${JSON.stringify(OFFSETS_LOST.pattern)}`);
    expect(metric.inputs.filter).toContain('resource.type="cloud_dataproc_job"');
    const line = `offsets lost: ${JSON.stringify({ batch: 3, topic: "weblogs", partition: 0, from_offset: 20, to_offset: 40, lost: 20 }).replace(/":/g, '": ').replace(/,"/g, ', "')}`;
    expect(new RegExp(OFFSETS_LOST.pattern).test(line)).toBe(true);
    expect(new RegExp(OFFSETS_LOST.lost).exec(line)?.[1]).toBe("20");
    const [condition] = alertsOf("quiet").find((a) => a.name === "quiet-offsets-lost")!.inputs.conditions;
    expect(condition.conditionThreshold).toMatchObject({
      comparison: "COMPARISON_GT",
      thresholdValue: 0,
      duration: "0s",
    });
    expect(condition.conditionThreshold.filter).toBe(`metric.type="logging.googleapis.com/user/${metric.inputs.name}"`);
  });

  it("name only metrics that the stack's log-based metrics or Google define, on the resource type Google writes them on", () => {
    const own = new Set(metricsOf("quiet").map((m) => `${USER_METRIC_PREFIX}${m.inputs.name}`));
    const filters = conditionsOf("quiet").flatMap(
      (c) => [conditionBody(c).filter, conditionBody(c).denominatorFilter].filter(Boolean) as string[],
    );
    expect(filters.length).toBeGreaterThanOrEqual(7);
    for (const filter of filters) {
      const { metricType, resourceType } = metricTypeOf(filter);
      if (own.has(metricType)) continue;
      expect(Object.keys(GOOGLE_DEFINED)).toContain(metricType);
      expect(resourceType).toBe(GOOGLE_DEFINED[metricType]);
    }
    // The component's own list of Google metrics is the verified one.
    for (const metric of Object.values(GOOGLE_METRICS)) expect(GOOGLE_DEFINED[metric.type]).toBe(metric.resource);
  });

  it("keep durations to whole minutes, absence windows to at least 120 s, and alignment periods within 60 s and 25 hours", () => {
    for (const condition of conditionsOf("quiet")) {
      const body = conditionBody(condition);
      expect(seconds(body.duration) % 60).toBe(0);
      if (condition.conditionAbsent) expect(seconds(body.duration)).toBeGreaterThanOrEqual(120);
      for (const aggregation of [...(body.aggregations ?? []), ...(body.denominatorAggregations ?? [])]) {
        expect(seconds(aggregation.alignmentPeriod)).toBeGreaterThanOrEqual(60);
        expect(seconds(aggregation.alignmentPeriod)).toBeLessThanOrEqual(90_000);
      }
    }
  });

  it("compare thresholds only with COMPARISON_GT or COMPARISON_LT, the two the Monitoring API accepts", () => {
    const thresholds = conditionsOf("quiet").filter((c) => c.conditionThreshold);
    expect(thresholds.length).toBeGreaterThan(0);
    for (const c of thresholds) expect(["COMPARISON_GT", "COMPARISON_LT"]).toContain(c.conditionThreshold.comparison);
  });

  it("sum every series into one in absence conditions, so a new revision or job leaves no old series to fire", () => {
    const absences = conditionsOf("quiet").filter((c) => c.conditionAbsent);
    expect(absences.length).toBe(3);
    for (const c of absences) {
      expect(c.conditionAbsent.aggregations).toEqual([expect.objectContaining({ crossSeriesReducer: "REDUCE_SUM" })]);
      expect(c.conditionAbsent.aggregations[0].groupByFields ?? []).toEqual([]);
    }
  });

  it("each carry documentation saying what to check first", () => {
    for (const a of alertsOf("quiet"))
      expect(a.inputs.documentation.content).toMatch(/Check first|check first|SSH to the master/);
  });

  it("keep a quiet night apart from a broken pipeline: freshness counts every \"loaded\" line (a quiet hour's zero-row load too), the streaming job's state and raw's silence do not depend on traffic", () => {
    const freshness = metricsOf("quiet").find((m) => m.inputs.name === "clickstream/hourly-loads")?.inputs
      .filter as string;
    expect(freshness).toContain("^loaded$");
    expect(freshness).not.toContain("outputRows");
    const broken = alertNamed("quiet", "streaming-job").inputs.conditions;
    expect(broken.map((c: Condition) => metricTypeOf(conditionBody(c).filter).metricType)).toEqual([
      GOOGLE_METRICS.streamingJobsRunning.type,
      GOOGLE_METRICS.streamingJobsRunning.type,
    ]);
    expect(seconds(alertNamed("quiet", "raw-silent").inputs.conditions[0].conditionAbsent.duration)).toBeGreaterThan(
      3600,
    );
  });

  it("fire on freshness after freshnessMinutes without a load, and say what that measures", () => {
    const quiet = alertNamed("quiet", "freshness").inputs;
    const paged = alertNamed("paged", "freshness").inputs;
    expect(quiet.conditions[0].conditionAbsent.duration).toBe(`${90 * 60}s`);
    expect(paged.conditions[0].conditionAbsent.duration).toBe(`${120 * 60}s`);
    expect(metricTypeOf(quiet.conditions[0].conditionAbsent.filter).metricType).toBe(
      `${USER_METRIC_PREFIX}clickstream/hourly-loads`,
    );
    expect(quiet.documentation.content).toContain('time since the loader\'s last "loaded" line');
  });

  it("stay silent on raw writes for 90 minutes before firing, longer than a quiet night's hour between two markers, counting writes to the raw bucket only", () => {
    const condition = alertNamed("quiet", "raw-silent").inputs.conditions[0].conditionAbsent;
    expect(condition.duration).toBe("5400s");
    expect(parseMonitoringFilter(condition.filter)).toEqual(
      expect.arrayContaining([
        { selector: "resource.label.bucket_name", op: "=", value: "p-raw" },
        { selector: "metric.label.method", op: "=", value: "WriteObject" },
      ]),
    );
  });

  it("watch the streaming cluster's running jobs, not the Hive cluster's", () => {
    for (const c of alertNamed("quiet", "streaming-job").inputs.conditions) {
      expect(parseMonitoringFilter(conditionBody(c).filter)).toContainEqual({
        selector: "resource.label.cluster_name",
        op: "=",
        value: "clickstream-stream",
      });
    }
  });

  it("fire on the quarantine share exactly when quarantined / (rows + quarantined) exceeds quarantineMaxShare", () => {
    const threshold = alertNamed("quiet", "quarantine-share").inputs.conditions[0].conditionThreshold
      .thresholdValue as number;
    const share = 0.05;
    for (const [rows, quarantined] of [
      [95, 5],
      [94, 6],
      [1000, 52],
      [1000, 53],
      [10, 0],
      [1, 1],
    ]) {
      expect(quarantined / rows > threshold).toBe(quarantined / (rows + quarantined) > share);
    }
  });
});

describe("notifications", () => {
  it("attach one email channel to every alert policy when alertEmail is set", () => {
    const channels = ofType("gcp:monitoring/notificationChannel:NotificationChannel", "paged");
    expect(channels.map((c) => [c.inputs.type, c.inputs.labels])).toEqual([
      ["email", { email_address: "ops@example.com" }],
    ]);
    for (const a of alertsOf("paged"))
      expect(a.inputs.notificationChannels).toEqual(["projects/p/notificationChannels/paged-email-7"]);
  });

  it("create no channel without alertEmail, and the alerts still exist with none", () => {
    expect(ofType("gcp:monitoring/notificationChannel:NotificationChannel", "quiet")).toEqual([]);
    expect(alertsOf("quiet").length).toBeGreaterThan(0);
    for (const a of alertsOf("quiet")) expect(a.inputs.notificationChannels ?? []).toEqual([]);
  });
});

describe("the log-based metrics", () => {
  const lineTerm = (line: LogLine) => `${line.field}=~${JSON.stringify(line.pattern)}`;

  it("match the shared definition of each line they count, in the log of the component that writes it", () => {
    const filterOf = (key: string) => declared.find((r) => r.name === `quiet-${key}`)!.inputs.filter as string;
    expect(filterOf("dag-task-failures")).toContain(lineTerm(DAG_TASK_FAILED));
    expect(filterOf("dag-task-failures")).toContain(
      'resource.type="cloud_composer_environment" AND resource.labels.environment_name="clickstream-composer"',
    );
    expect(filterOf("hourly-loads")).toContain(lineTerm(HOUR_LOADED));
    expect(filterOf("rows-loaded")).toContain(lineTerm(HOUR_LOADED));
    expect(filterOf("rejected-files")).toContain(lineTerm(FILE_REJECTED));
    expect(filterOf("raw-rows")).toContain(lineTerm(HOUR_COMPLETE));
    expect(filterOf("quarantined-rows")).toContain(lineTerm(HOUR_COMPLETE));
    for (const key of ["hourly-loads", "rows-loaded", "loader-errors", "rejected-files"]) {
      expect(filterOf(key)).toContain(
        'resource.type="cloud_run_revision" AND resource.labels.service_name="clickstream-loader"',
      );
    }
    expect(filterOf("loader-errors")).toContain("severity>=ERROR");
  });

  it("extract rows and quarantined counts with the shared patterns, which find them in a real marker line", () => {
    const extractor = (key: string) => declared.find((r) => r.name === `quiet-${key}`)!.inputs.valueExtractor as string;
    expect(extractor("raw-rows")).toBe(`REGEXP_EXTRACT(textPayload, ${JSON.stringify(HOUR_COMPLETE.rows)})`);
    expect(extractor("quarantined-rows")).toBe(
      `REGEXP_EXTRACT(textPayload, ${JSON.stringify(HOUR_COMPLETE.quarantined)})`,
    );
    expect(extractor("rows-loaded")).toBe("EXTRACT(jsonPayload.outputRows)");
    const line = `hour complete: ${JSON.stringify({ hour: "2026-11-26T10", rows: 150, quarantined: 3 }).replace(/":/g, '": ').replace(/,"/g, ', "')}`;
    expect(new RegExp(HOUR_COMPLETE.rows).exec(line)?.[1]).toBe("150");
    expect(new RegExp(HOUR_COMPLETE.quarantined).exec(line)?.[1]).toBe("3");
  });

  it("use only RE2 syntax in the shared patterns (no lookaround or backreference), which Cloud Logging requires", () => {
    const patterns = [
      NOT_LOADED.pattern,
      DAG_TASK_FAILED.pattern,
      DAG_TASK_FAILED.task,
      HOUR_LOADED.pattern,
      FILE_REJECTED.pattern,
      HOUR_COMPLETE.pattern,
      HOUR_COMPLETE.rows,
      HOUR_COMPLETE.quarantined,
    ];
    for (const pattern of patterns) {
      expect(() => new RegExp(pattern)).not.toThrow();
      expect(pattern).not.toMatch(/\(\?[=!<]|\\[1-9]/);
    }
  });

  it("have names Cloud Logging accepts: at most 100 of A-Z a-z 0-9 _-.,+!*'()%/, not starting with /", () => {
    const names = metricsOf("quiet").map((m) => m.inputs.name as string);
    expect(names.length).toBe(9);
    for (const name of names) expect(name).toMatch(/^[A-Za-z0-9_\-.,+!*'()%][A-Za-z0-9_\-.,+!*'()%/]{0,99}$/);
  });

  it("declare distributions with buckets and counters without, as Cloud Logging requires", () => {
    for (const m of metricsOf("quiet")) {
      const isDistribution = m.inputs.metricDescriptor.valueType === "DISTRIBUTION";
      expect(m.inputs.metricDescriptor.metricKind).toBe("DELTA");
      expect(Boolean(m.inputs.bucketOptions)).toBe(isDistribution);
      expect(Boolean(m.inputs.valueExtractor)).toBe(isDistribution);
    }
  });
});

describe("the health dashboard", () => {
  const dashboard = () => JSON.parse(ofType("gcp:monitoring/dashboard:Dashboard", "quiet")[0].inputs.dashboardJson);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const filtersOf = (widget: any): string[] =>
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    widget.xyChart.dataSets.flatMap((d: any) => {
      const q = d.timeSeriesQuery;
      return q.timeSeriesFilter
        ? [q.timeSeriesFilter.filter]
        : [q.timeSeriesFilterRatio.numerator.filter, q.timeSeriesFilterRatio.denominator.filter];
    });

  it("charts raw intake, quarantine, DAG runs and durations, loads, rows, freshness and the loader's invocations and errors", () => {
    const charted = new Set(
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      dashboard().mosaicLayout.tiles.flatMap((t: any) => filtersOf(t.widget).map((f) => metricTypeOf(f).metricType)),
    );
    expect([...charted].sort()).toEqual(
      [
        ...Object.keys(GOOGLE_DEFINED),
        ...["dag-task-failures", "hourly-loads", "loader-errors", "quarantined-rows", "raw-rows", "rows-loaded"].map(
          (k) => `${USER_METRIC_PREFIX}clickstream/${k}`,
        ),
      ].sort(),
    );
  });

  it("places every tile inside the 48-column mosaic without overlap", () => {
    const { columns, tiles } = dashboard().mosaicLayout;
    const taken = new Set<string>();
    const overlaps: string[] = [];
    for (const t of tiles) {
      expect(t.xPos + t.width).toBeLessThanOrEqual(columns);
      for (let x = t.xPos; x < t.xPos + t.width; x++)
        for (let y = t.yPos; y < t.yPos + t.height; y++) {
          if (taken.has(`${x},${y}`)) overlaps.push(`${x},${y}`);
          taken.add(`${x},${y}`);
        }
    }
    expect(overlaps).toEqual([]);
  });

  it("is reachable at the console's custom-dashboard address", () => {
    expect(dashboardUrls.quiet).toBe(
      "https://console.cloud.google.com/monitoring/dashboards/custom/quiet-dashboard-42?project=my-clickstream-dev",
    );
  });
});

describe("the monitoring settings", () => {
  const ns = "clickstream-pipeline";
  const parse = (extra: Record<string, string>) => parseStackConfig({ "gcp:project": "my-clickstream-dev", ...extra });

  it("default to a 90-minute freshness bound and no email", () => {
    expect(parse({})).toEqual(expect.objectContaining({ freshnessMinutes: 90, alertEmail: undefined }));
  });

  it("reject a freshness bound shorter than the hourly cadence allows, or not a whole number, naming the key", () => {
    for (const value of ["60", "1441", "90.5", "ninety"]) {
      expect(() => parse({ [`${ns}:freshnessMinutes`]: value })).toThrow(StackConfigError);
      expect(() => parse({ [`${ns}:freshnessMinutes`]: value })).toThrow(
        `Config key '${ns}:freshnessMinutes' accepts an integer from 75 to 1440; got '${value}'.`,
      );
    }
  });

  it("accept an email address for alerts and reject anything else with one sentence", () => {
    expect(parse({ [`${ns}:alertEmail`]: "ops@example.com" }).alertEmail).toBe("ops@example.com");
    expect(parse({ [`${ns}:alertEmail`]: "" }).alertEmail).toBeUndefined();
    expect(() => parse({ [`${ns}:alertEmail`]: "ops at example" })).toThrow(
      `Config key '${ns}:alertEmail' accepts an email address such as ops@example.com, or nothing for no email; got 'ops at example'.`,
    );
  });
});
