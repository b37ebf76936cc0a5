// Operations: log-based metrics, alert policies (each saying what to check first), an optional email
// channel and the pipeline's health dashboard, all on the log lines of contract/log-lines.json.
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import {
  DAG_ID,
  DAG_TASK_FAILED,
  FILE_REJECTED,
  HOUR_COMPLETE,
  HOUR_LOADED,
  LogLine,
  NOT_LOADED,
  OFFSETS_LOST,
} from "../contract/logLines";
import { settled } from "./consistency";
import { StackConfig } from "./config";

/** Google-defined metrics the alerts and charts read, with the monitored resource type each is written on. */
export const GOOGLE_METRICS = {
  streamingJobsRunning: {
    type: "dataproc.googleapis.com/cluster/job/running_count",
    resource: "cloud_dataproc_cluster",
  },
  bucketRequests: { type: "storage.googleapis.com/api/request_count", resource: "gcs_bucket" },
  dagRuns: { type: "composer.googleapis.com/workflow/run_count", resource: "cloud_composer_workflow" },
  dagRunDuration: { type: "composer.googleapis.com/workflow/run_duration", resource: "cloud_composer_workflow" },
  functionRequests: { type: "run.googleapis.com/request_count", resource: "cloud_run_revision" },
} as const;

/** Log-based metrics live under this prefix in Cloud Monitoring. */
export const USER_METRIC_PREFIX = "logging.googleapis.com/user/";

/** Minutes without a write to the raw bucket before the entries-stopped alert fires. */
// A running stream writes to raw at least once an hour, even on a quiet night (the hour's _COMPLETE marker):
// silence longer than an hour plus margin means a broken pipeline, not a quiet site.
export const RAW_SILENCE_MINUTES = 90;

export interface MonitoringArgs {
  /** Metrics, alerts and the dashboard are named `<namePrefix>-...`. */
  namePrefix: StackConfig["namePrefix"];
  project: pulumi.Input<string>;
  region: StackConfig["region"];
  /** Unset: the alerts show on the console only. */
  alertEmail?: StackConfig["alertEmail"];
  freshnessMinutes: StackConfig["freshnessMinutes"];
  quarantineMaxShare: StackConfig["quarantineMaxShare"];
  /** The streaming cluster (runs Kafka, the generator and the streaming job). */
  streamClusterName: pulumi.Input<string>;
  rawBucketName: pulumi.Input<string>;
  composerEnvironmentName: pulumi.Input<string>;
  /** The loader function's name, which is also its Cloud Run service's name (gen2). */
  loaderServiceName: pulumi.Input<string>;
}

const quoted = (value: string) => JSON.stringify(value);
/** A Logging-query term: the line's field matches its pattern. */
const lineMatches = (line: LogLine) => `${line.field}=~${quoted(line.pattern)}`;
const seconds = (n: number) => `${n}s`;

export class Monitoring extends pulumi.ComponentResource {
  readonly metrics: Record<string, gcp.logging.Metric>;
  readonly alerts: gcp.monitoring.AlertPolicy[];
  readonly emailChannel?: gcp.monitoring.NotificationChannel;
  readonly dashboard: gcp.monitoring.Dashboard;
  readonly dashboardUrl: pulumi.Output<string>;

  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super("clickstream:stack:Monitoring", name, {}, opts);
    const child = { parent: this };
    const prefix = args.namePrefix;

    const loaderService = pulumi.output(args.loaderServiceName).apply(quoted);
    // Gen2 functions log as their Cloud Run service, which carries the function's name.
    const loaderLogs = pulumi.interpolate`resource.type="cloud_run_revision" AND resource.labels.service_name=${loaderService}`;
    // Job driver output reaches Cloud Logging only with the cluster property dataproc:dataproc.logging.stackdriver.job.driver.enable.
    const streamJobLogs = pulumi.interpolate`resource.type="cloud_dataproc_job" AND resource.labels.region=${quoted(args.region)}`;
    const composerTaskLogs = pulumi.interpolate`resource.type="cloud_composer_environment" AND resource.labels.environment_name=${pulumi.output(args.composerEnvironmentName).apply(quoted)}`;

    const counter = (key: string, description: string, filter: pulumi.Input<string>, labels?: Record<string, string>) =>
      new gcp.logging.Metric(
        `${name}-${key}`,
        {
          name: `${prefix}/${key}`,
          description,
          filter,
          metricDescriptor: {
            metricKind: "DELTA",
            valueType: "INT64",
            unit: "1",
            labels: Object.keys(labels ?? {}).map((label) => ({ key: label, valueType: "STRING" })),
          },
          labelExtractors: labels,
        },
        child,
      );
    const distribution = (key: string, description: string, filter: pulumi.Input<string>, valueExtractor: string) =>
      new gcp.logging.Metric(
        `${name}-${key}`,
        {
          name: `${prefix}/${key}`,
          description,
          filter,
          metricDescriptor: { metricKind: "DELTA", valueType: "DISTRIBUTION", unit: "1" },
          valueExtractor,
          // Buckets from 1 to about 10^7 entries, a factor of 2 apart.
          bucketOptions: { exponentialBuckets: { numFiniteBuckets: 24, growthFactor: 2, scale: 1 } },
        },
        child,
      );

    this.metrics = {
      dagTaskFailures: counter(
        "dag-task-failures",
        `Failed tasks of the ${DAG_ID} DAG (its failure callback's line).`,
        pulumi.interpolate`${composerTaskLogs} AND ${lineMatches(DAG_TASK_FAILED)}`,
        { task: `REGEXP_EXTRACT(${DAG_TASK_FAILED.field}, ${quoted(DAG_TASK_FAILED.task)})` },
      ),
      hourlyLoads: counter(
        "hourly-loads",
        "Hourly files the loader loaded into BigQuery.",
        pulumi.interpolate`${loaderLogs} AND ${lineMatches(HOUR_LOADED)}`,
      ),
      rowsLoaded: distribution(
        "rows-loaded",
        "Rows each loaded hourly file added to BigQuery.",
        pulumi.interpolate`${loaderLogs} AND ${lineMatches(HOUR_LOADED)}`,
        `EXTRACT(${HOUR_LOADED.rowsField})`,
      ),
      loaderErrors: counter(
        "loader-errors",
        "Lines of severity ERROR or worse from the loader (rejected files included).",
        pulumi.interpolate`${loaderLogs} AND severity>=ERROR`,
      ),
      rejectedFiles: counter(
        "rejected-files",
        "Hourly files the loader gave up on.",
        pulumi.interpolate`${loaderLogs} AND ${lineMatches(FILE_REJECTED)}`,
      ),
      rawRows: distribution(
        "raw-rows",
        "Entries written to raw per completed hour (the streaming job's marker line).",
        pulumi.interpolate`${streamJobLogs} AND ${lineMatches(HOUR_COMPLETE)}`,
        `REGEXP_EXTRACT(${HOUR_COMPLETE.field}, ${quoted(HOUR_COMPLETE.rows)})`,
      ),
      quarantinedRows: distribution(
        "quarantined-rows",
        "Entries quarantined per completed hour (the streaming job's marker line).",
        pulumi.interpolate`${streamJobLogs} AND ${lineMatches(HOUR_COMPLETE)}`,
        `REGEXP_EXTRACT(${HOUR_COMPLETE.field}, ${quoted(HOUR_COMPLETE.quarantined)})`,
      ),
      offsetsLost: counter(
        "offsets-lost",
        "Gaps the streaming job met: offsets of a partition deleted or expired before it read them (its gap line).",
        pulumi.interpolate`${streamJobLogs} AND ${lineMatches(OFFSETS_LOST)}`,
      ),
      objectsNotLoaded: counter(
        "objects-not-loaded",
        "Published hourly objects the loader's lineage does not hold (the DAG's reconcile_lineage line).",
        pulumi.interpolate`${composerTaskLogs} AND ${lineMatches(NOT_LOADED)}`,
      ),
    };
    const user = (metric: gcp.logging.Metric) => pulumi.interpolate`metric.type="${USER_METRIC_PREFIX}${metric.name}"`;
    const google = (metric: { type: string; resource: string }) =>
      `metric.type="${metric.type}" AND resource.type="${metric.resource}"`;

    const streamCluster = pulumi.output(args.streamClusterName).apply(quoted);
    const rawBucket = pulumi.output(args.rawBucketName).apply(quoted);
    const jobsRunning = pulumi.interpolate`${google(GOOGLE_METRICS.streamingJobsRunning)} AND resource.label.cluster_name=${streamCluster}`;
    const rawWrites = pulumi.interpolate`${google(GOOGLE_METRICS.bucketRequests)} AND resource.label.bucket_name=${rawBucket} AND metric.label.method="WriteObject"`;
    const dagRuns = pulumi.interpolate`${google(GOOGLE_METRICS.dagRuns)} AND resource.label.workflow_name="${DAG_ID}"`;
    const dagRunDuration = pulumi.interpolate`${google(GOOGLE_METRICS.dagRunDuration)} AND resource.label.workflow_name="${DAG_ID}"`;
    const loaderRequests = pulumi.interpolate`${google(GOOGLE_METRICS.functionRequests)} AND resource.label.service_name=${loaderService}`;

    if (args.alertEmail) {
      this.emailChannel = new gcp.monitoring.NotificationChannel(
        `${name}-email`,
        {
          displayName: `${prefix} pipeline alerts`,
          type: "email",
          labels: { email_address: args.alertEmail },
        },
        child,
      );
    }
    const channels = this.emailChannel ? [this.emailChannel.name] : [];
    // Every series summed into one: a new Cloud Run revision or Dataproc job starts a new series, and an absence
    // condition on the old one would fire although the pipeline is fine.
    const summedEvery = (period: number, aligner = "ALIGN_DELTA") => [
      { alignmentPeriod: seconds(period), perSeriesAligner: aligner, crossSeriesReducer: "REDUCE_SUM" },
    ];

    // Cloud Monitoring refuses an alert on a log-based metric for up to 10 minutes after the metric's creation.
    const metricsReady = settled(`${name}-metrics-ready`, "logMetric", Object.values(this.metrics), child);
    const alert = (
      key: string,
      displayName: string,
      content: string,
      conditions: gcp.types.input.monitoring.AlertPolicyCondition[],
    ) =>
      new gcp.monitoring.AlertPolicy(
        `${name}-${key}`,
        {
          displayName: `${prefix}: ${displayName}`,
          combiner: "OR",
          conditions,
          notificationChannels: channels,
          documentation: { mimeType: "text/markdown", subject: `${prefix}: ${displayName}`, content },
          userLabels: { pipeline: prefix },
        },
        { parent: this, dependsOn: [metricsReady] },
      );

    const freshness = args.freshnessMinutes;
    this.alerts = [
      alert(
        "freshness",
        `no hour loaded for ${freshness} minutes`,
        `Freshness bound breached: no hourly file has loaded into BigQuery for ${freshness} minutes. This measures the time since the loader's last "loaded" line. ` +
          `An hour is loaded only after it ended, so when no load happened for ${freshness} minutes the newest hour in the table is more than ${freshness} minutes behind the wall clock. ` +
          `Check first: the Composer DAG ${DAG_ID} (a failed or stuck run, or its sensor waiting for a _COMPLETE marker), then the loader's logs.`,
        [
          {
            displayName: `no "loaded" line for ${freshness} minutes`,
            conditionAbsent: {
              filter: user(this.metrics.hourlyLoads),
              duration: seconds(freshness * 60),
              aggregations: summedEvery(300),
            },
          },
        ],
      ),
      alert(
        "dag-task-failed",
        `${DAG_ID} task failed`,
        `A task of the ${DAG_ID} DAG failed (its failure callback logged "${DAG_ID} failed: task=..."). ` +
          "Check first: the failed task's log in the Airflow UI (airflowUrl) - the metric's task label names it; a failed data-quality check means the hour was not published.",
        [
          {
            displayName: "failed DAG task",
            conditionThreshold: {
              filter: user(this.metrics.dagTaskFailures),
              comparison: "COMPARISON_GT",
              thresholdValue: 0,
              duration: "0s",
              aggregations: summedEvery(300),
            },
          },
        ],
      ),
      alert(
        "loader-errors",
        "loader errors or rejected files",
        'The loader logged an ERROR: a file it rejected ("not loaded: ...", acknowledged without retry) or a lineage row it could not record. ' +
          "Check first: the loader's ERROR lines in Cloud Logging (their reason field), then reload the object by hand once the cause is fixed.",
        [
          {
            displayName: "loader ERROR lines",
            conditionThreshold: {
              filter: user(this.metrics.loaderErrors),
              comparison: "COMPARISON_GT",
              thresholdValue: 0,
              duration: "0s",
              aggregations: summedEvery(300),
            },
          },
        ],
      ),
      alert(
        "objects-not-loaded",
        "published objects not loaded",
        "The DAG's reconcile_lineage task found published hourly files of the last 72 hours whose live generation has no lineage row: " +
          "the event was dropped, the loader was down longer than Eventarc's 24 hours of retries, or it rejected the file. " +
          "Check first: the task's \"published object not loaded\" lines (object, generation), then the loader's logs for that object; " +
          "once the cause is fixed, reload it by hand. The alert repeats each hour until the object is loaded or replaced.",
        [
          {
            displayName: 'a "published object not loaded" line',
            conditionThreshold: {
              filter: user(this.metrics.objectsNotLoaded),
              comparison: "COMPARISON_GT",
              thresholdValue: 0,
              duration: "0s",
              aggregations: summedEvery(300),
            },
          },
        ],
      ),
      alert(
        "streaming-job",
        "streaming job not RUNNING",
        "No Dataproc job is running on the streaming cluster, so nothing moves from Kafka to raw. " +
          "Check first: the streaming job's state and driver output (`gcloud dataproc jobs describe`), then the cluster itself; `pulumi up` resubmits a deleted job.",
        [
          {
            displayName: "no running job on the streaming cluster",
            conditionThreshold: {
              filter: jobsRunning,
              comparison: "COMPARISON_LT",
              thresholdValue: 1,
              duration: "300s",
              aggregations: summedEvery(300, "ALIGN_MAX"),
            },
          },
          {
            displayName: "the streaming cluster reports no jobs",
            conditionAbsent: { filter: jobsRunning, duration: "600s", aggregations: summedEvery(300, "ALIGN_MAX") },
          },
        ],
      ),
      alert(
        "offsets-lost",
        "entries lost before the stream read them",
        "The streaming job met offsets Kafka no longer held (retention passed while the job was stopped, or a DeleteRecords) and went on after them; " +
          "the entries in between are in no hour. Check first: the job's \"offsets lost\" line and the raw bucket's _complete/_gaps/ record (partition, offsets, " +
          "when reading resumed), then why the job fell behind or who deleted records (the broker's ACLs allow that to its admin only).",
        [
          {
            displayName: 'an "offsets lost" line',
            conditionThreshold: {
              filter: user(this.metrics.offsetsLost),
              comparison: "COMPARISON_GT",
              thresholdValue: 0,
              duration: "0s",
              aggregations: summedEvery(300),
            },
          },
        ],
      ),
      alert(
        "raw-silent",
        `no raw data for ${RAW_SILENCE_MINUTES} minutes`,
        `Nothing was written to the raw bucket for ${RAW_SILENCE_MINUTES} minutes, not even a quiet hour's _COMPLETE marker: the stream stopped moving on. ` +
          "If the streaming-job alert is not open too, the Kafka broker or the generator on the streaming master is down: SSH to the master and run " +
          "`systemctl status kafka weblog-generator`, then `journalctl -u weblog-generator`.",
        [
          {
            displayName: "no write to the raw bucket",
            conditionAbsent: {
              filter: rawWrites,
              duration: seconds(RAW_SILENCE_MINUTES * 60),
              aggregations: summedEvery(300),
            },
          },
        ],
      ),
    ];
    // share = q / (rows + q) exceeds s exactly when q / rows exceeds s / (1 - s); a share of 1 cannot be exceeded.
    if (args.quarantineMaxShare < 1) {
      const s = args.quarantineMaxShare;
      this.alerts.push(
        alert(
          "quarantine-share",
          `quarantine share over ${s}`,
          `More than ${s} of the entries of the latest completed hours were quarantined (from the streaming job's "hour complete" line: quarantined / (rows + quarantined)). ` +
            "Check first: the reasons in the quarantine folder of the raw bucket (a producer sending a new format?); that hour's data-quality check fails too.",
          [
            {
              displayName: `quarantined / accepted over ${s / (1 - s)}`,
              conditionThreshold: {
                filter: user(this.metrics.quarantinedRows),
                denominatorFilter: user(this.metrics.rawRows),
                comparison: "COMPARISON_GT",
                thresholdValue: s / (1 - s),
                duration: "0s",
                // Both come from the same lines, so the ratio of their means over an hour is the ratio of their sums.
                aggregations: summedEvery(3600, "ALIGN_MEAN"),
                denominatorAggregations: summedEvery(3600, "ALIGN_MEAN"),
              },
            },
          ],
        ),
      );
    }

    const chart = (title: string, dataSets: object[]) => ({
      title,
      xyChart: { dataSets, chartOptions: { mode: "COLOR" } },
    });
    const series = (
      filter: string,
      period: number,
      aligner: string,
      reducer = "REDUCE_SUM",
      groupByFields: string[] = [],
    ) => ({
      plotType: "LINE",
      timeSeriesQuery: {
        timeSeriesFilter: {
          filter,
          aggregation: {
            alignmentPeriod: seconds(period),
            perSeriesAligner: aligner,
            crossSeriesReducer: reducer,
            groupByFields,
          },
        },
      },
    });
    const ratio = (numerator: string, denominator: string, period: number) => ({
      plotType: "LINE",
      timeSeriesQuery: {
        timeSeriesFilterRatio: {
          numerator: {
            filter: numerator,
            aggregation: {
              alignmentPeriod: seconds(period),
              perSeriesAligner: "ALIGN_MEAN",
              crossSeriesReducer: "REDUCE_SUM",
            },
          },
          denominator: {
            filter: denominator,
            aggregation: {
              alignmentPeriod: seconds(period),
              perSeriesAligner: "ALIGN_MEAN",
              crossSeriesReducer: "REDUCE_SUM",
            },
          },
        },
      },
    });
    const dashboardJson = pulumi
      .all([
        user(this.metrics.rawRows),
        user(this.metrics.quarantinedRows),
        user(this.metrics.hourlyLoads),
        user(this.metrics.rowsLoaded),
        user(this.metrics.loaderErrors),
        user(this.metrics.dagTaskFailures),
        rawWrites,
        dagRuns,
        dagRunDuration,
        loaderRequests,
        jobsRunning,
      ])
      .apply(
        ([
          rawRows,
          quarantined,
          loads,
          rowsLoaded,
          loaderErrors,
          taskFailures,
          writes,
          runs,
          runDuration,
          requests,
          running,
        ]) => {
          const widgets = [
            chart("Writes per second into the raw bucket", [series(writes, 60, "ALIGN_RATE")]),
            chart("Entries into raw per completed hour", [series(rawRows, 3600, "ALIGN_MEAN")]),
            chart("Quarantined per accepted entry (hourly)", [ratio(quarantined, rawRows, 3600)]),
            chart("Streaming jobs running", [series(running, 60, "ALIGN_MAX")]),
            chart(`${DAG_ID} runs per hour, by state`, [
              series(runs, 3600, "ALIGN_DELTA", "REDUCE_SUM", ["metric.label.state"]),
            ]),
            chart(`${DAG_ID} run duration (s)`, [series(runDuration, 3600, "ALIGN_MEAN", "REDUCE_MEAN")]),
            chart("Failed DAG tasks, by task", [
              series(taskFailures, 3600, "ALIGN_DELTA", "REDUCE_SUM", ["metric.label.task"]),
            ]),
            chart("Hourly files loaded per hour", [series(loads, 3600, "ALIGN_DELTA")]),
            chart("Rows per loaded file", [series(rowsLoaded, 3600, "ALIGN_MEAN")]),
            chart(`Freshness: files loaded in the last ${freshness} minutes (0 = bound breached)`, [
              series(loads, freshness * 60, "ALIGN_DELTA"),
            ]),
            chart("Loader invocations per minute, by response class", [
              series(requests, 60, "ALIGN_DELTA", "REDUCE_SUM", ["metric.label.response_code_class"]),
            ]),
            chart("Loader ERROR lines per minute", [series(loaderErrors, 60, "ALIGN_DELTA")]),
          ];
          const tiles = widgets.map((widget, i) => ({
            xPos: (i % 2) * 24,
            yPos: Math.floor(i / 2) * 16,
            width: 24,
            height: 16,
            widget,
          }));
          return JSON.stringify({ displayName: `${prefix} pipeline health`, mosaicLayout: { columns: 48, tiles } });
        },
      );
    this.dashboard = new gcp.monitoring.Dashboard(`${name}-dashboard`, { dashboardJson }, child);
    // The dashboard's id is projects/<project>/dashboards/<id>; the console addresses it by the last part.
    this.dashboardUrl = pulumi.interpolate`https://console.cloud.google.com/monitoring/dashboards/custom/${this.dashboard.id.apply((id) => id.split("/").pop())}?project=${args.project}`;
    this.registerOutputs({ dashboardUrl: this.dashboardUrl });
  }
}
