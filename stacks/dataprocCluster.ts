// The shape both Dataproc clusters share: single node, internal IP only, own service account, Component Gateway.
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { StackConfig } from "./config";

/** Dataproc 2.2: Spark 3.5, Scala 2.12, Python 3.11, Hive 3.1 (matched by the local sandbox's pins). */
export const DATAPROC_IMAGE_VERSION = "2.2-debian12";

export interface SingleNodeClusterArgs {
  config: StackConfig;
  clusterName: string;
  machineType: string;
  serviceAccountEmail: pulumi.Input<string>;
  subnetwork: pulumi.Input<string>;
  stagingBucket: pulumi.Input<string>;
  networkTag: string;
  metadata?: Record<string, pulumi.Input<string>>;
  initializationActions?: { script: pulumi.Input<string>; timeoutSec: number }[];
  properties?: Record<string, string>;
}

/** The cluster's web UIs (YARN, Spark History, ...) through Component Gateway, by name. */
export function gatewayUrlsOf(cluster: gcp.dataproc.Cluster): pulumi.Output<Record<string, string>> {
  return cluster.clusterConfig.apply((c) => c.endpointConfig?.httpPorts ?? {});
}

export function singleNodeCluster(
  resourceName: string,
  args: SingleNodeClusterArgs,
  opts: pulumi.CustomResourceOptions,
): gcp.dataproc.Cluster {
  const { config } = args;
  return new gcp.dataproc.Cluster(resourceName, {
    name: args.clusterName,
    region: config.region,
    clusterConfig: {
      stagingBucket: args.stagingBucket,
      tempBucket: args.stagingBucket,
      gceClusterConfig: {
        subnetwork: args.subnetwork,
        internalIpOnly: true,
        serviceAccount: args.serviceAccountEmail,
        serviceAccountScopes: ["https://www.googleapis.com/auth/cloud-platform"],
        tags: [args.networkTag],
        metadata: args.metadata,
        shieldedInstanceConfig: { enableSecureBoot: true, enableVtpm: true, enableIntegrityMonitoring: true },
      },
      masterConfig: {
        numInstances: 1,
        machineType: args.machineType,
        // pd-standard: a new project's SSD quota is small; these disks hold logs and Kafka's few GB.
        diskConfig: { bootDiskType: "pd-standard", bootDiskSizeGb: config.diskSizeGb },
      },
      softwareConfig: {
        imageVersion: DATAPROC_IMAGE_VERSION,
        overrideProperties: { "dataproc:dataproc.allow.zero.workers": "true", ...args.properties },
      },
      // Component Gateway: YARN, Spark History and Hive UIs through Google's proxy, no public IP needed.
      endpointConfig: { enableHttpPortAccess: true },
      initializationActions: args.initializationActions,
    },
  }, opts);
}
