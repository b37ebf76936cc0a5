// Composer 3 (Airflow 2.10.5): the hourly DAG, its HiveQL and the settings it reads, in a bucket the stack owns.
import * as path from "node:path";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { DAGS_DIR, filesIn, HIVEQL_DIR, REPO_ROOT, resourceIdOf, uploadFile } from "./artifacts";
import { StackConfig } from "./config";
import { HIVEQL_DAG_FOLDER } from "./layout";
import AIRFLOW_CONFIG_OVERRIDES from "./airflowConfigOverrides.json";

/** Airflow variables the DAG reads, by name; each reaches Airflow as the env variable AIRFLOW_VAR_<NAME>. */
export type DagSettings = Record<string, pulumi.Input<string>>;

export function airflowVariableEnv(settings: DagSettings): Record<string, pulumi.Input<string>> {
  return Object.fromEntries(
    Object.entries(settings).map(([key, value]) => [`AIRFLOW_VAR_${key.toUpperCase()}`, value]),
  );
}

/** Environment variable holding the first hour the DAG processes (its start_date, where catch-up begins). */
export const DAG_START_ENV = "WEBLOG_HOURLY_START";

/** The current UTC hour in the ISO form the DAG parses, e.g. 2026-11-26T15:00:00+00:00. */
export function currentUtcHour(now = new Date()): string {
  return `${now.toISOString().slice(0, 13)}:00:00+00:00`;
}

export interface OrchestrationArgs {
  /** The environment is `<namePrefix>-composer`. */
  namePrefix: StackConfig["namePrefix"];
  region: pulumi.Input<string>;
  composerImageVersion: pulumi.Input<string>;
  serviceAccount: gcp.serviceaccount.Account;
  /** The environment's bucket (DAG folder, logs); owned by the stack so `pulumi destroy` removes it. */
  bucket: gcp.storage.Bucket;
  dagSettings: DagSettings;
}

export class Orchestration extends pulumi.ComponentResource {
  readonly bucket: gcp.storage.Bucket;
  readonly environment: gcp.composer.Environment;
  readonly dagObjects: gcp.storage.BucketObject[] = [];
  readonly airflowUrl: pulumi.Output<string>;

  constructor(name: string, args: OrchestrationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("clickstream:stack:Orchestration", name, {}, opts);
    const child = { parent: this };

    this.bucket = args.bucket;

    this.environment = new gcp.composer.Environment(
      `${name}-environment`,
      {
        name: `${args.namePrefix}-composer`,
        region: args.region,
        storageConfig: { bucket: this.bucket.name },
        config: {
          environmentSize: "ENVIRONMENT_SIZE_SMALL",
          // No internet access for Airflow's components; Google APIs (Dataproc, Storage) stay reachable.
          enablePrivateEnvironment: true,
          enablePrivateBuildsOnly: true,
          nodeConfig: { serviceAccount: args.serviceAccount.email },
          softwareConfig: {
            imageVersion: args.composerImageVersion,
            envVariables: { ...airflowVariableEnv(args.dagSettings), [DAG_START_ENV]: currentUtcHour() },
            // Only options Composer allows to override (core-load_examples, for one, is blocked: the
            // policy pack refuses every blocked option before Composer would, 30 minutes into a deployment).
            // One file, read here and by the scheduler test (test/dags): catch-up off by default, the DAG bounds its own.
            airflowConfigOverrides: AIRFLOW_CONFIG_OVERRIDES,
          },
        },
      },
      {
        parent: this,
        // The DAG starts at the hour of the first deployment (no data exists before it); later `pulumi up`s
        // keep that hour rather than restarting Airflow with a new one.
        ignoreChanges: [`config.softwareConfig.envVariables.${DAG_START_ENV}`],
      },
    );

    // The DAG folder: DAG files (and the steps module they import) at its top, HiveQL in dags/hql/.
    for (const file of filesIn(DAGS_DIR, [".py"])) {
      this.dagObjects.push(
        uploadFile(
          `${name}-dag-${resourceIdOf(file)}`,
          this.bucket.name,
          `dags/${path.basename(file)}`,
          path.join(REPO_ROOT, file),
          child,
        ),
      );
    }
    for (const file of filesIn(HIVEQL_DIR, [".hql"])) {
      this.dagObjects.push(
        uploadFile(
          `${name}-hql-${resourceIdOf(file)}`,
          this.bucket.name,
          `${HIVEQL_DAG_FOLDER}/${path.basename(file)}`,
          path.join(REPO_ROOT, file),
          child,
        ),
      );
    }

    this.airflowUrl = this.environment.config.apply((c) => c.airflowUri);
    this.registerOutputs({ airflowUrl: this.airflowUrl });
  }
}
