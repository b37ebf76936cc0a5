// The Hive cluster the hourly DAG runs its HiveQL on; the DAG's register step creates the raw tables.
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { StackConfig } from "./config";
import { gatewayUrlsOf, singleNodeCluster } from "./dataprocCluster";

export interface HiveArgs {
  config: StackConfig;
  subnetwork: pulumi.Input<string>;
  serviceAccountEmail: pulumi.Input<string>;
  stagingBucket: pulumi.Input<string>;
}

export class Hive extends pulumi.ComponentResource {
  readonly cluster: gcp.dataproc.Cluster;
  readonly gatewayUrls: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: HiveArgs, opts?: pulumi.ComponentResourceOptions) {
    super("clickstream:stack:Hive", name, {}, opts);
    const { config } = args;
    const clusterName = `${config.namePrefix}-hive`;

    // Hive is part of every Dataproc 2.2 image. No DDL job at deploy time: every hourly run creates the
    // external tables with IF NOT EXISTS before it registers its partition, so the tables live in the HiveQL only.
    this.cluster = singleNodeCluster(`${name}-cluster`, {
      config,
      clusterName,
      machineType: config.hiveMachineType,
      serviceAccountEmail: args.serviceAccountEmail,
      subnetwork: args.subnetwork,
      stagingBucket: args.stagingBucket,
      networkTag: clusterName,
    }, { parent: this });

    this.gatewayUrls = gatewayUrlsOf(this.cluster);
    this.registerOutputs({});
  }
}
