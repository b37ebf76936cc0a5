// Runs the Pulumi program (index.ts) against Pulumi's mocks: no CLI, no credentials, no Google API.
// Every resource the program declares is recorded with its inputs, as the engine would receive them.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { digestOf, RELEASES } from "../../stacks/releases";
import type * as pulumiModule from "@pulumi/pulumi";

export const PROJECT = "clickstream-pipeline";
export const REPO_ROOT = path.resolve(__dirname, "..", "..");

export interface DeclaredResource {
  type: string;
  name: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  inputs: Record<string, any>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  state: Record<string, any>;
  /** Names of the resources it was declared to wait for (its final dependsOn, after every transformation). */
  dependsOn: string[];
  /** Names of the resources whose outputs its inputs read (the engine's implicit dependencies). */
  inputsFrom: string[];
  /** The earlier names it was declared to keep its state from (its aliases given by name). */
  aliases: string[];
  /** The name of the resource it was declared as a child of (its URN's parent), if any but the stack. */
  parent?: string;
}

/** What a run under the mocks gives: the graph, the error that stopped it, if any, and the data sources it read. */
export type DeclaredRun = ProgramRun & { error?: Error; calls: ProviderCall[] };

/** A data source the program read (an invoke), with what it asked. */
export interface ProviderCall {
  token: string;
  inputs: Record<string, unknown>;
}

export interface ProgramRun {
  resources: DeclaredResource[];
  outputs: Record<string, unknown>;
}

/**
 * A download cache holding every third-party release, each with the digest recorded when it was verified, so the
 * program stages them without the network (the fetch itself is tested in releases.test.ts).
 */
export function cachedReleases(): string {
  const cache = mkdtempSync(path.join(tmpdir(), "releases-"));
  mkdirSync(path.join(cache, "releases"));
  for (const release of RELEASES) {
    const body = Buffer.from(`stand-in for ${release.file}\n`);
    writeFileSync(path.join(cache, "releases", release.file), body);
    writeFileSync(
      path.join(cache, "releases", `${release.file}.${release.algorithm}`),
      `${digestOf(body, release.algorithm)}\n`,
    );
  }
  return cache;
}
process.env.CLICKSTREAM_CACHE = cachedReleases();

const projectNumber = "123456789012";
const storageAgent = `service-${projectNumber}@gs-project-accounts.iam.gserviceaccount.com`;
/** The service agent domains Google documents for the services the stack creates agents of. */
const AGENT_DOMAINS: Record<string, string> = {
  "composer.googleapis.com": "cloudcomposer-accounts",
  "eventarc.googleapis.com": "gcp-sa-eventarc",
  "pubsub.googleapis.com": "gcp-sa-pubsub",
};
export const STORAGE_AGENT = storageAgent;
export const PROJECT_NUMBER = projectNumber;

/** The `config:` map of a stack file (flat `key: value` lines, as Pulumi.dev.yaml is written). */
export function stackFileConfig(file: string): Record<string, string> {
  const config: Record<string, string> = {};
  let inConfig = false;
  for (const line of readFileSync(path.join(REPO_ROOT, file), "utf8").split("\n")) {
    if (/^config:\s*$/.test(line)) {
      inConfig = true;
      continue;
    }
    if (!inConfig || /^\s*(#.*)?$/.test(line)) continue;
    if (!/^\s/.test(line)) break;
    const m = /^\s+([A-Za-z0-9_.-]+:[A-Za-z0-9_.-]+):\s*(.*?)\s*$/.exec(line);
    if (!m) throw new Error(`${file}: cannot read config line '${line}'`);
    config[m[1]] = m[2].replace(/^"(.*)"$/, "$1");
  }
  return config;
}

/** The dev stack grown by configuration: the topic on Managed Kafka, executors on 2 workers, Hive autoscaled to 6. */
export const SCALED_CONFIG: Record<string, string> = {
  ...stackFileConfig("Pulumi.dev.yaml"),
  [`${PROJECT}:kafka`]: "managed",
  [`${PROJECT}:streamWorkers`]: "2",
  [`${PROJECT}:streamWorkerMachineType`]: "e2-standard-4",
  [`${PROJECT}:hiveMaxWorkers`]: "6",
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function computedState(type: string, name: string, inputs: Record<string, any>, project: string): Record<string, any> {
  switch (type) {
    case "gcp:serviceaccount/account:Account": {
      const email = `${inputs.accountId}@${project}.iam.gserviceaccount.com`;
      return {
        ...inputs,
        email,
        name: `projects/${project}/serviceAccounts/${email}`,
        member: `serviceAccount:${email}`,
      };
    }
    case "gcp:projects/serviceIdentity:ServiceIdentity": {
      const email = `service-${projectNumber}@${AGENT_DOMAINS[inputs.service]}.iam.gserviceaccount.com`;
      return { ...inputs, email, member: `serviceAccount:${email}` };
    }
    case "gcp:artifactregistry/repository:Repository":
      return { ...inputs, name: inputs.repositoryId };
    case "random:index/randomId:RandomId":
      return { ...inputs, hex: "a1b2c3", b64Std: "obLD" };
    case "gcp:storage/bucket:Bucket":
      return { ...inputs, url: `gs://${inputs.name}` };
    case "gcp:projects/iAMCustomRole:IAMCustomRole":
      return { ...inputs, name: `projects/${project}/roles/${inputs.roleId}` };
    case "gcp:dataproc/cluster:Cluster":
      return {
        ...inputs,
        clusterConfig: {
          ...inputs.clusterConfig,
          gceClusterConfig: { ...inputs.clusterConfig?.gceClusterConfig, zone: `${inputs.region}-b` },
          endpointConfig: {
            enableHttpPortAccess: true,
            httpPorts: {
              "YARN ResourceManager": `https://${inputs.name}-dot-${inputs.region}.dataproc.googleusercontent.com/yarn/`,
              "Spark History Server": `https://${inputs.name}-dot-${inputs.region}.dataproc.googleusercontent.com/sparkhistory/`,
            },
          },
        },
      };
    case "gcp:dataproc/autoscalingPolicy:AutoscalingPolicy":
      return {
        ...inputs,
        name: `projects/${project}/locations/${inputs.location}/autoscalingPolicies/${inputs.policyId}`,
      };
    case "gcp:compute/subnetwork:Subnetwork":
      return {
        ...inputs,
        selfLink: `https://www.googleapis.com/compute/v1/projects/${project}/regions/${inputs.region}/subnetworks/${inputs.name}`,
      };
    case "gcp:dataproc/job:Job":
      return { ...inputs, reference: { jobId: `job-${name}` } };
    case "gcp:composer/environment:Environment":
      return {
        ...inputs,
        config: {
          ...inputs.config,
          airflowUri: `https://airflow-${inputs.name}-dot-${inputs.region}.composer.googleusercontent.com`,
          dagGcsPrefix: `gs://${inputs.storageConfig?.bucket}/dags`,
        },
      };
    case "gcp:cloudfunctionsv2/function:Function":
      return {
        ...inputs,
        serviceConfig: { ...inputs.serviceConfig, service: inputs.name },
        url: `https://${inputs.name}-xyz.a.run.app`,
      };
    default:
      return { ...inputs };
  }
}

/**
 * Loads index.ts with the given stack config and mocks, and returns what it declared; if the program throws
 * while loading, `error` is set and `resources` shows what was declared before. Jest keeps a module that
 * loaded once, so a test file can run the program successfully once, and failing configs any number of times.
 */
export function runProgram(config: Record<string, string>, stack = "dev"): Promise<DeclaredRun> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return declareUnderMocks(config, () => require("../../index"), stack);
}

/**
 * Runs `declare` in a root stack with the given stack config and mocks (what runProgram does with the whole
 * program), and returns what it declared; its return value stands for the program's exports. A component
 * declared this way in a test body is judged by that test alone (a mutation test's coverage per test).
 */
export async function declareUnderMocks(
  config: Record<string, string>,
  declare: () => unknown,
  stack = "dev",
): Promise<DeclaredRun> {
  const resources: DeclaredResource[] = [];
  const waitsFor = new Map<string, string[]>();
  const formerNames = new Map<string, string[]>();
  const parents = new Map<string, string | undefined>();
  const calls: ProviderCall[] = [];
  const readsFrom = new Map<string, Promise<string[]>>();
  const project = config["gcp:project"] ?? "unset-project";
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pulumi: typeof pulumiModule = require("@pulumi/pulumi");
  pulumi.runtime.setMocks(
    {
      newResource(args) {
        const state = computedState(args.type, args.name, args.inputs, project);
        resources.push({
          type: args.type,
          name: args.name,
          inputs: args.inputs,
          state,
          dependsOn: waitsFor.get(args.name) ?? [],
          inputsFrom: [],
          aliases: formerNames.get(args.name) ?? [],
          parent: parents.get(args.name),
        });
        return { id: `${args.name}-id`, state };
      },
      call(args) {
        calls.push({ token: args.token, inputs: args.inputs });
        if (args.token === "gcp:storage/getProjectServiceAccount:getProjectServiceAccount") {
          return { emailAddress: storageAgent, project };
        }
        if (args.token === "gcp:organizations/getProject:getProject") {
          return { number: projectNumber, projectId: project };
        }
        throw new Error(`unexpected call ${args.token}`);
      },
    },
    PROJECT,
    stack,
    false,
  );
  pulumi.runtime.setAllConfig(config);
  let error: Error | undefined;
  // A root stack, as the CLI has, so a stack transformation sees every resource's final options.
  const programExports = (await pulumi.runtime.runInPulumiStack(async () => {
    pulumi.runtime.registerStackTransformation(({ name, props, opts }) => {
      const dependsOn = opts.dependsOn === undefined ? [] : [opts.dependsOn].flat();
      waitsFor.set(
        name,
        dependsOn.map((r) => (r as unknown as { __name: string }).__name),
      );
      readsFrom.set(name, resourcesReadBy(props));
      const parent = (opts.parent as unknown as { __name?: string; __pulumiType?: string } | undefined) ?? undefined;
      parents.set(name, parent?.__pulumiType === "pulumi:pulumi:Stack" ? undefined : parent?.__name);
      formerNames.set(
        name,
        (opts.aliases ?? []).flatMap((a) => (typeof a === "object" && "name" in a && a.name ? [String(a.name)] : [])),
      );
      return undefined;
    });
    try {
      return declare();
    } catch (err) {
      // The program stopped while loading: no outputs, and `resources` shows what it declared before.
      error = err as Error;
      return {};
    }
  })) as Record<string, unknown>;
  // Let registrations that no output depends on finish too.
  await pulumi.runtime.disconnect();
  for (const r of resources) r.inputsFrom = (await readsFrom.get(r.name)) ?? [];
  const declared = resources.filter((r) => r.type !== "pulumi:pulumi:Stack");
  return { resources: declared, outputs: error ? {} : programExports, error, calls };
}

/** Names of the resources whose outputs a resource's inputs read, found through every Output among them. */
async function resourcesReadBy(props: unknown): Promise<string[]> {
  const found = new Set<string>();
  const pending: Promise<void>[] = [];
  const walk = (value: unknown, depth: number): void => {
    if (value === null || typeof value !== "object" || depth > 20) return;
    const output = value as { allResources?: () => Promise<Set<{ __name: string }>> };
    if (typeof output.allResources === "function") {
      pending.push(
        output.allResources().then((set) => {
          for (const r of set) found.add(r.__name);
        }),
      );
      return;
    }
    for (const v of Object.values(value as Record<string, unknown>)) walk(v, depth + 1);
  };
  walk(props, 0);
  await Promise.all(pending);
  return [...found];
}

export const byType = (run: ProgramRun, type: string) => run.resources.filter((r) => r.type === type);
export const byName = (run: ProgramRun, name: string): DeclaredResource => {
  const found = run.resources.find((r) => r.name === name);
  if (!found) throw new Error(`no resource named ${name}; declared: ${run.resources.map((r) => r.name).join(", ")}`);
  return found;
};

/** The dev stack's whole graph: every kind of resource, each as many times as the pipeline needs it. */
export const DEFAULT_GRAPH: Readonly<Record<string, number>> = {
  "clickstream:stack:Artifacts": 1,
  "clickstream:stack:Hive": 1,
  "clickstream:stack:Identity": 1,
  "clickstream:stack:KafkaCredentials": 1,
  "clickstream:stack:Loader": 1,
  "clickstream:stack:Monitoring": 1,
  "clickstream:stack:Network": 1,
  "clickstream:stack:Orchestration": 1,
  "clickstream:stack:ProjectServices": 1,
  "clickstream:stack:Storage": 1,
  "clickstream:stack:Streaming": 1,
  "clickstream:stack:Warehouse": 1,
  "gcp:artifactregistry/repository:Repository": 1,
  "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember": 1,
  "gcp:bigquery/dataset:Dataset": 1,
  "gcp:bigquery/datasetIamMember:DatasetIamMember": 1,
  "gcp:bigquery/iamMember:IamMember": 1,
  // hourly_activity, hourly_activity_loads, two views, the raw external table
  "gcp:bigquery/table:Table": 5,
  "gcp:cloudfunctionsv2/function:Function": 1,
  "gcp:cloudrunv2/serviceIamMember:ServiceIamMember": 1,
  "gcp:composer/environment:Environment": 1,
  "gcp:compute/firewall:Firewall": 4,
  "gcp:compute/network:Network": 1,
  "gcp:compute/subnetwork:Subnetwork": 1,
  "gcp:dataproc/cluster:Cluster": 2,
  // Composer may submit jobs to the Hive cluster, and to no other
  "gcp:dataproc/clusterIAMMember:ClusterIAMMember": 1,
  // The streaming job only: the Hive tables are created by the hourly run, not by a deploy-time job.
  "gcp:dataproc/job:Job": 1,
  // 8 log-based metrics, 7 alerts and one dashboard (no email channel: the dev stack sets no alertEmail)
  "gcp:logging/metric:Metric": 9,
  "gcp:monitoring/alertPolicy:AlertPolicy": 8,
  "gcp:monitoring/dashboard:Dashboard": 1,
  "gcp:projects/iAMCustomRole:IAMCustomRole": 3,
  "gcp:projects/iAMMember:IAMMember": 18,
  "gcp:projects/service:Service": 16,
  "gcp:projects/serviceIdentity:ServiceIdentity": 3,
  // One SCRAM password per Kafka principal (admin, generator, stream, shipper); the streaming account reads three
  "gcp:secretmanager/secret:Secret": 4,
  "gcp:secretmanager/secretIamMember:SecretIamMember": 3,
  "gcp:secretmanager/secretVersion:SecretVersion": 4,
  "gcp:serviceaccount/account:Account": 6,
  "gcp:serviceaccount/iAMMember:IAMMember": 2,
  "gcp:storage/bucket:Bucket": 7,
  "gcp:storage/bucketIAMMember:BucketIAMMember": 23,
  // 7 artifacts, 2 DAG files, 5 HiveQL scripts, 6 third-party releases (Kafka, Node.js, 4 connector jars)
  "gcp:storage/bucketObject:BucketObject": 21,
  "random:index/randomId:RandomId": 2,
  "random:index/randomPassword:RandomPassword": 4,
  // the waits of stacks/consistency.ts: APIs, service agents, grants (all, and the loader's repository), log-based metrics
  "time:index/sleep:Sleep": 5,
};
