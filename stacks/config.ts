// The stack's settings: one typed object, every key validated, defaults sized for a free-trial project. The keys,
// their types, defaults and descriptions are declared once, in Pulumi.yaml (stacks/settings.ts reads it).
import * as pulumi from "@pulumi/pulumi";
import {
  ACCEPTS,
  AccessLogSettings,
  INPUT_FORMATS,
  InputFormat,
  invalidAccessLogSetting,
} from "../contract/accessLogSettings";
import { machineShape, MACHINE_TYPES_ACCEPTED } from "./machineTypes";
import { HEADROOM, memoryPlan, overcommitted } from "./memoryBudget";
import { declaredSettings } from "./settings";

export const PROJECT_NAMESPACE = "clickstream-pipeline";

export interface StackConfig {
  /** GCP project id (`gcp:project`). */
  project: string;
  /** Region of every regional resource (`gcp:region`). */
  region: string;
  /** Prefix of every project-unique name, clickstream-<stack> unless set: two stacks share a project. */
  namePrefix: string;
  /** The subnet's primary range; the clusters' only addresses. */
  subnetCidr: string;
  /** Open TCP 22 to IAP's range so `gcloud compute ssh --tunnel-through-iap` reaches the masters. */
  allowIapSsh: boolean;
  streamMachineType: string;
  hiveMachineType: string;
  diskSizeGb: number;
  kafkaTopic: string;
  /** Partitions of the topic: with workers, a multiple of the streaming executors' cores (one reader per core). */
  kafkaPartitions: number;
  /** Where the topic lives: a broker on the streaming master, or Google Cloud Managed Service for Apache Kafka. */
  kafka: KafkaKind;
  /** Managed Kafka only: the cluster's vCPUs (at least 3) and memory (1 to 8 GiB per vCPU). */
  managedKafkaVcpus: number;
  managedKafkaMemoryGib: number;
  /** Primary workers of the streaming cluster, where the Spark executors run; 0 = the single node alone. */
  streamWorkers: number;
  streamWorkerMachineType: string;
  /** The Hive cluster's largest size: 0 = a single node; N = 2 primary workers plus up to N-2 autoscaled secondary workers. */
  hiveMaxWorkers: number;
  /** Whether the demo generator runs on the streaming master; false for a stack fed by real logs only. */
  demoTraffic: boolean;
  /** Live generator entries per second on the streaming master (with demoTraffic). */
  generatorRate: number;
  /** Raw Parquet older than this is deleted by the bucket's lifecycle rule. */
  rawRetentionDays: number;
  /** Lets `pulumi destroy` delete non-empty buckets and the dataset's tables (dev stacks). */
  forceDestroy: boolean;
  bigqueryDataset: string;
  composerImageVersion: string;
  /** How far before the time Kafka received it an entry's event_time may lie; older entries are quarantined. */
  maxEventAgeDays: number;
  /** Largest share of quarantined entries an hour may have before its data-quality check fails. */
  quarantineMaxShare: number;
  /** Largest share of an hour's raw rows that may repeat an event_id (each counts once) before its check fails. */
  duplicateMaxShare: number;
  /** Freshness bound: an alert fires when no hourly file has loaded into BigQuery for this long. */
  freshnessMinutes: number;
  /** Where alerts are emailed; without it the alerts exist in the console with no notification channel. */
  alertEmail?: string;
  /** What the topic holds: contract JSON entries, or web servers' access-log lines (combined format). */
  inputFormat: InputFormat;
  /** How an access-log line maps to an entry (inputFormat combined). */
  accessLog: AccessLogSettings;
}

export const KAFKA_KINDS = ["dataproc", "managed"] as const;
export type KafkaKind = (typeof KAFKA_KINDS)[number];

/** Google's limits on a Managed Kafka cluster's capacity: at least 3 vCPUs, 1 to 8 GiB of memory per vCPU. */
export const MANAGED_KAFKA_MIN_VCPUS = 3;
export const MANAGED_KAFKA_GIB_PER_VCPU = { min: 1, max: 8, recommended: 4 } as const;
/** A Dataproc cluster with workers has at least 2 primary workers (1 is refused); autoscaling needs them too. */
export const MIN_PRIMARY_WORKERS = 2;

/** vCPUs of a machine type this stack accepts (e2-standard-4: 4, e2-medium: 2). */
export function vcpusOf(machineType: string): number {
  const shape = machineShape(machineType);
  if (!shape) throw new Error(`${machineType} is not a machine type the stack accepts`);
  return shape.vcpus;
}

/** The keys a user may set, with the default each takes (undefined = required; "" = worked out, or none). */
const DECLARED = declaredSettings();
const DEFAULTS: Record<string, string | undefined> = {
  "gcp:project": undefined,
  ...DECLARED.providers,
  ...Object.fromEntries(Object.entries(DECLARED.project).map(([key, setting]) => [key, setting.default])),
};

/** The accessLog* keys and the setting each holds. */
const ACCESS_LOG_KEYS: Record<keyof AccessLogSettings, string> = {
  productUrlPattern: "accessLogProductUrlPattern",
  cartMethod: "accessLogCartMethod",
  cartUrlPattern: "accessLogCartUrlPattern",
  countedStatuses: "accessLogCountedStatuses",
};

export const CONFIG_KEYS = Object.keys(DEFAULTS);

/** Raised for a missing or invalid key; the message is one sentence naming the key and what it accepts. */
export class StackConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StackConfigError";
  }
}

function fullKey(key: string): string {
  return key.includes(":") ? key : `${PROJECT_NAMESPACE}:${key}`;
}

type RawConfig = Record<string, string | undefined>;

/** Every key the last parse read: a test holds them equal to the keys Pulumi.yaml declares. */
export const KEYS_READ = new Set<string>();

function rawValue(raw: RawConfig, key: string): string {
  KEYS_READ.add(key);
  const value = raw[fullKey(key)] ?? DEFAULTS[key];
  if (value === undefined || value.trim() === "") {
    throw new StackConfigError(
      `Config key '${fullKey(key)}' is required: set it with \`pulumi config set ${fullKey(key)} <value>\`.`,
    );
  }
  return value.trim();
}

function invalid(key: string, accepts: string, value: string): StackConfigError {
  return new StackConfigError(`Config key '${fullKey(key)}' accepts ${accepts}; got '${value}'.`);
}

function matching(raw: RawConfig, key: string, pattern: RegExp, accepts: string): string {
  const value = rawValue(raw, key);
  if (!pattern.test(value)) throw invalid(key, accepts, value);
  return value;
}

function integer(raw: RawConfig, key: string, min: number, max: number): number {
  const value = rawValue(raw, key);
  const n = Number(value);
  if (!/^-?\d+$/.test(value) || n < min || n > max) throw invalid(key, `an integer from ${min} to ${max}`, value);
  return n;
}

/** An integer that may be left unset: undefined then, for a default worked out from other keys. */
function optionalInteger(raw: RawConfig, key: string, min: number, max: number): number | undefined {
  KEYS_READ.add(key);
  const value = (raw[fullKey(key)] ?? "").trim();
  return value === "" ? undefined : integer({ [fullKey(key)]: value }, key, min, max);
}

/** 0, or an integer from min to max: for worker counts, where 1 is not a cluster Dataproc builds. */
function zeroOr(raw: RawConfig, key: string, min: number, max: number, accepts: string): number {
  const value = rawValue(raw, key);
  const n = Number(value);
  if (!/^\d+$/.test(value) || (n !== 0 && (n < min || n > max))) throw invalid(key, accepts, value);
  return n;
}

function oneOf<T extends string>(raw: RawConfig, key: string, choices: readonly T[], note?: string): T {
  const value = rawValue(raw, key);
  if (!(choices as readonly string[]).includes(value))
    throw invalid(key, choices.join(" or ") + (note ? ` (${note})` : ""), value);
  return value as T;
}

function fraction(raw: RawConfig, key: string): number {
  const value = rawValue(raw, key);
  const n = Number(value);
  if (!/^\d*\.?\d+$/.test(value) || n > 1) throw invalid(key, "a number from 0 to 1", value); // no sign: never < 0
  return n;
}

function flag(raw: RawConfig, key: string): boolean {
  const value = rawValue(raw, key);
  if (value !== "true" && value !== "false") throw invalid(key, "true or false", value);
  return value === "true";
}

/** A private (RFC 1918) IPv4 range from /16 to /28, given by its network address. */
function privateCidr(raw: RawConfig, key: string): string {
  const value = rawValue(raw, key);
  const accepts = "a private IPv4 range from /16 to /28 written as its network address, e.g. 10.20.0.0/24";
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(value);
  if (!m) throw invalid(key, accepts, value);
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix < 16 || prefix > 28) throw invalid(key, accepts, value);
  const address = octets.reduce((acc, o) => acc * 256 + o, 0);
  const hostBits = 2 ** (32 - prefix);
  const isPrivate =
    octets[0] === 10 ||
    (octets[0] === 172 && octets[1] >= 16 && octets[1] <= 31) ||
    (octets[0] === 192 && octets[1] === 168);
  if (!isPrivate || address % hostBits !== 0) throw invalid(key, accepts, value);
  return value;
}

/** An optional email address; unset or empty means none. */
function optionalEmail(raw: RawConfig, key: string): string | undefined {
  KEYS_READ.add(key);
  const value = (raw[fullKey(key)] ?? "").trim();
  if (value === "") return undefined;
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value))
    throw invalid(key, "an email address such as ops@example.com, or nothing for no email", value);
  return value;
}

/** The access-log mapping, each key checked with the sandbox's rules (contract/accessLogSettings.ts). */
function accessLogSettings(raw: RawConfig): AccessLogSettings {
  const settings = Object.fromEntries(
    (Object.entries(ACCESS_LOG_KEYS) as [keyof AccessLogSettings, string][]).map(([setting, key]) => [
      setting,
      rawValue(raw, key),
    ]),
  ) as unknown as AccessLogSettings;
  const bad = invalidAccessLogSetting(settings);
  if (bad) throw invalid(ACCESS_LOG_KEYS[bad], ACCEPTS[bad], settings[bad]);
  return settings;
}

function machineType(raw: RawConfig, key: string): string {
  const value = rawValue(raw, key);
  if (!machineShape(value)) throw invalid(key, MACHINE_TYPES_ACCEPTED, value);
  return value;
}

/** The stack's name prefix: set, or clickstream-<stack>; it must leave room in a service account id (30 characters). */
function namePrefix(raw: RawConfig, stack: string): string {
  const set = (raw[fullKey("namePrefix")] ?? "").trim();
  KEYS_READ.add("namePrefix");
  const value = set === "" ? `clickstream-${stack.toLowerCase().replace(/[^a-z0-9]+/g, "-")}` : set;
  if (!/^[a-z][a-z0-9-]{1,15}[a-z0-9]$/.test(value)) {
    throw invalid(
      "namePrefix",
      `3 to 17 lowercase letters, digits or hyphens, starting with a letter${set === "" ? ` (unset, it is clickstream-<stack>, too long for the stack ${stack}: set a shorter one)` : ""}`,
      value,
    );
  }
  return value;
}

/** The dataset: set, or the name prefix with underscores. */
function datasetOf(raw: RawConfig, prefix: string): string {
  const set = (raw[fullKey("bigqueryDataset")] ?? "").trim();
  KEYS_READ.add("bigqueryDataset");
  const value = set === "" ? prefix.replace(/-/g, "_") : set;
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,1023}$/.test(value))
    throw invalid("bigqueryDataset", "a BigQuery dataset id of letters, digits and underscores", value);
  return value;
}

/**
 * The topic's partitions: unset, 3 on a single node and one per executor core with workers; set, with workers,
 * a multiple of the executor cores, so every core reads as many partitions as every other.
 */
function partitionsFor(raw: RawConfig, executorCores: number): number {
  const partitions = optionalInteger(raw, "kafkaPartitions", 1, 1024);
  if (partitions === undefined) return executorCores > 0 ? executorCores : 3;
  if (executorCores > 0 && partitions % executorCores !== 0) {
    throw invalid(
      "kafkaPartitions",
      `a multiple of the streaming executors' ${executorCores} cores (streamWorkers times the vCPUs of streamWorkerMachineType), or nothing for exactly that`,
      String(partitions),
    );
  }
  return partitions;
}

/** Validates every key, in a fixed order, and returns the typed settings; throws StackConfigError on the first bad one. */
export function parseStackConfig(raw: RawConfig, stack = "dev"): StackConfig {
  KEYS_READ.clear();
  const unknown = Object.keys(raw).filter(
    (k) => k.startsWith(`${PROJECT_NAMESPACE}:`) && !CONFIG_KEYS.includes(k.slice(PROJECT_NAMESPACE.length + 1)),
  );
  if (unknown.length > 0) {
    const known = CONFIG_KEYS.filter((k) => !k.includes(":")).join(", ");
    throw new StackConfigError(`Config key '${unknown[0]}' is not a setting of this stack, which accepts ${known}.`);
  }
  const region = matching(
    raw,
    "gcp:region",
    /^[a-z]+-[a-z]+\d$/,
    "a Google Cloud region such as us-central1 or europe-west1",
  );
  const streamWorkers = zeroOr(
    raw,
    "streamWorkers",
    MIN_PRIMARY_WORKERS,
    100,
    "0 (the master alone) or a number of primary workers from 2 to 100",
  );
  const streamWorkerMachineType = machineType(raw, "streamWorkerMachineType");
  const kafkaPartitions = partitionsFor(raw, streamWorkers * vcpusOf(streamWorkerMachineType));
  const managedKafkaVcpus = integer(raw, "managedKafkaVcpus", MANAGED_KAFKA_MIN_VCPUS, 1000);
  const { min, max, recommended } = MANAGED_KAFKA_GIB_PER_VCPU;
  const managedKafkaMemoryGib =
    optionalInteger(raw, "managedKafkaMemoryGib", 1, 8000) ?? managedKafkaVcpus * recommended;
  if (managedKafkaMemoryGib < managedKafkaVcpus * min || managedKafkaMemoryGib > managedKafkaVcpus * max) {
    throw invalid(
      "managedKafkaMemoryGib",
      `from ${managedKafkaVcpus * min} to ${managedKafkaVcpus * max} GiB (${min} to ${max} GiB per vCPU of managedKafkaVcpus, ${managedKafkaVcpus})`,
      String(managedKafkaMemoryGib),
    );
  }
  const prefix = namePrefix(raw, stack);
  return withinMemory({
    project: matching(
      raw,
      "gcp:project",
      /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/,
      "a project id of 6 to 30 lowercase letters, digits or hyphens starting with a letter",
    ),
    region,
    namePrefix: prefix,
    subnetCidr: privateCidr(raw, "subnetCidr"),
    allowIapSsh: flag(raw, "allowIapSsh"),
    streamMachineType: machineType(raw, "streamMachineType"),
    hiveMachineType: machineType(raw, "hiveMachineType"),
    diskSizeGb: integer(raw, "diskSizeGb", 30, 1000),
    kafkaTopic: matching(
      raw,
      "kafkaTopic",
      /^[A-Za-z0-9._-]{1,249}$/,
      "a Kafka topic name of 1 to 249 letters, digits, '.', '_' or '-'",
    ),
    kafkaPartitions,
    kafka: oneOf(raw, "kafka", KAFKA_KINDS),
    managedKafkaVcpus,
    managedKafkaMemoryGib,
    streamWorkers,
    streamWorkerMachineType,
    hiveMaxWorkers: zeroOr(
      raw,
      "hiveMaxWorkers",
      MIN_PRIMARY_WORKERS + 1,
      100,
      "0 (a single node) or a largest size from 3 to 100 workers (2 primary, the rest autoscaled secondary workers)",
    ),
    demoTraffic: flag(raw, "demoTraffic"),
    generatorRate: integer(raw, "generatorRate", 1, 5000),
    rawRetentionDays: integer(raw, "rawRetentionDays", 1, 3650),
    forceDestroy: flag(raw, "forceDestroy"),
    bigqueryDataset: datasetOf(raw, prefix),
    composerImageVersion: matching(
      raw,
      "composerImageVersion",
      // Any Composer 3 image: an Airflow version, with or without a pinned build (listed as docs/deploying.md says).
      /^composer-3-airflow-\d+\.\d+\.\d+(-build\.\d+)?$/,
      "a Composer 3 image, composer-3-airflow-X.Y.Z or composer-3-airflow-X.Y.Z-build.N",
    ),
    quarantineMaxShare: fraction(raw, "quarantineMaxShare"),
    maxEventAgeDays: integer(raw, "maxEventAgeDays", 1, 3650),
    duplicateMaxShare: fraction(raw, "duplicateMaxShare"),
    // Hourly loads arrive about 60 minutes apart, so a bound under 75 would fire between two on-time loads.
    freshnessMinutes: integer(raw, "freshnessMinutes", 75, 1440),
    alertEmail: optionalEmail(raw, "alertEmail"),
    inputFormat: oneOf(raw, "inputFormat", INPUT_FORMATS, "combined: nginx or Apache access-log lines"),
    accessLog: accessLogSettings(raw),
  });
}

/** The memory rule between keys: what runs on each node (stacks/memoryBudget.ts) fits its machine type with headroom. */
function withinMemory(config: StackConfig): StackConfig {
  const node = overcommitted(memoryPlan(config));
  if (node) {
    const needed = node.parts.filter((p) => !p.what.startsWith("YARN")).reduce((a, p) => a + p.mib, 0) + 2048;
    throw invalid(
      node.key,
      `a machine type whose memory holds what runs on the ${node.node} with ${HEADROOM * 100}% to spare ` +
        `(at least ${Math.ceil(needed / (1 - HEADROOM) / 1024)} GiB, e.g. e2-standard-4)`,
      node.machineType,
    );
  }
  return config;
}

/** Reads the stack's configuration from Pulumi and validates it; call it before declaring any resource. */
export function loadStackConfig(): StackConfig {
  return parseStackConfig(pulumi.runtime.allConfig(), pulumi.getStack());
}
