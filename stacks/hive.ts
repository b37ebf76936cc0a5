// The Hive cluster the hourly DAG runs its HiveQL on; the DAG's register step creates the raw tables. With
// `hiveMaxWorkers`, two primary workers and an autoscaling policy that adds secondary workers for the hourly work.
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { MIN_PRIMARY_WORKERS, StackConfig } from "./config";
import { ClusterWorkers, dataprocCluster, gatewayUrlsOf } from "./dataprocCluster";

/**
 * How the Hive cluster scales, within Google's bounds (cooldown 2m to 1d, graceful decommission 0s to 1d,
 * factors 0 to 1): each hourly run needs its capacity at once and for minutes, so the scale-up takes all the
 * pending memory after the shortest cooldown, and a node leaves only after the running query ended or an hour passed.
 */
export const HIVE_AUTOSCALING = {
  cooldownPeriod: "120s",
  gracefulDecommissionTimeout: "3600s",
  scaleUpFactor: 1.0,
  scaleDownFactor: 1.0,
} as const;

export interface HiveArgs {
  /** The cluster is `<namePrefix>-hive`, also its nodes' network tag. */
  namePrefix: StackConfig["namePrefix"];
  region: pulumi.Input<string>;
  hiveMachineType: StackConfig["hiveMachineType"];
  /** 0: the master alone; more: two primary workers and secondary workers up to this many in all. */
  hiveMaxWorkers: StackConfig["hiveMaxWorkers"];
  diskSizeGb: StackConfig["diskSizeGb"];
  subnetwork: pulumi.Input<string>;
  serviceAccountEmail: pulumi.Input<string>;
  stagingBucket: pulumi.Input<string>;
  tempBucket: pulumi.Input<string>;
}

export class Hive extends pulumi.ComponentResource {
  readonly cluster: gcp.dataproc.Cluster;
  readonly autoscaling?: gcp.dataproc.AutoscalingPolicy;
  readonly gatewayUrls: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: HiveArgs, opts?: pulumi.ComponentResourceOptions) {
    super("clickstream:stack:Hive", name, {}, opts);
    const clusterName = `${args.namePrefix}-hive`;

    let workers: ClusterWorkers | undefined;
    if (args.hiveMaxWorkers > 0) {
      const { cooldownPeriod, gracefulDecommissionTimeout, scaleUpFactor, scaleDownFactor } = HIVE_AUTOSCALING;
      // Primary workers stay at Google's minimum (they hold HDFS, which autoscaling must not shrink); only
      // secondary workers are added and removed.
      this.autoscaling = new gcp.dataproc.AutoscalingPolicy(
        `${name}-autoscaling`,
        {
          policyId: `${clusterName}-autoscaling`,
          location: args.region,
          workerConfig: { minInstances: MIN_PRIMARY_WORKERS, maxInstances: MIN_PRIMARY_WORKERS },
          secondaryWorkerConfig: { minInstances: 0, maxInstances: args.hiveMaxWorkers - MIN_PRIMARY_WORKERS },
          basicAlgorithm: {
            cooldownPeriod,
            yarnConfig: { gracefulDecommissionTimeout, scaleUpFactor, scaleDownFactor },
          },
        },
        { parent: this },
      );
      workers = {
        count: MIN_PRIMARY_WORKERS,
        machineType: args.hiveMachineType,
        autoscalingPolicy: this.autoscaling.name,
      };
    }

    // Hive is part of every Dataproc 2.2 image. No DDL job at deploy time: every hourly run creates the
    // external tables with IF NOT EXISTS before it registers its partition, so the tables live in the HiveQL only.
    this.cluster = dataprocCluster(
      `${name}-cluster`,
      {
        region: args.region,
        diskSizeGb: args.diskSizeGb,
        clusterName,
        machineType: args.hiveMachineType,
        serviceAccountEmail: args.serviceAccountEmail,
        subnetwork: args.subnetwork,
        stagingBucket: args.stagingBucket,
        tempBucket: args.tempBucket,
        networkTag: clusterName,
        labels: { workload: "hourly" },
        workers,
      },
      { parent: this },
    );

    this.gatewayUrls = gatewayUrlsOf(this.cluster);
    // The cluster the DAG submits its Hive jobs to, and its web interfaces.
    this.registerOutputs({ clusterName: this.cluster.name, gatewayUrls: this.gatewayUrls });
  }
}
