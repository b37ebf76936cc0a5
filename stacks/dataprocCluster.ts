// The shape both Dataproc clusters share: a master (alone, or with primary workers), internal IP only, own
// service account, Component Gateway; optionally an autoscaling policy that adds secondary workers.
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { StackConfig } from "./config";

/** Dataproc 2.2: Spark 3.5, Scala 2.12, Python 3.11, Hive 3.1 (matched by the local sandbox's pins). */
export const DATAPROC_IMAGE_VERSION = "2.2-debian12";

/** Primary workers beside the master, and optionally the autoscaling policy that adds secondary workers. */
export interface ClusterWorkers {
  count: number;
  machineType: string;
  /** Full name of a gcp.dataproc.AutoscalingPolicy; Dataproc refuses it on a single-node cluster. */
  autoscalingPolicy?: pulumi.Input<string>;
}

export interface DataprocClusterArgs {
  region: pulumi.Input<string>;
  diskSizeGb: StackConfig["diskSizeGb"];
  clusterName: string;
  machineType: string;
  serviceAccountEmail: pulumi.Input<string>;
  subnetwork: pulumi.Input<string>;
  stagingBucket: pulumi.Input<string>;
  tempBucket: pulumi.Input<string>;
  networkTag: string;
  metadata?: Record<string, pulumi.Input<string>>;
  initializationActions?: { script: pulumi.Input<string>; timeoutSec: number }[];
  properties?: Record<string, string>;
  /** Unset: the single node alone (Dataproc's `allow.zero.workers`). */
  workers?: ClusterWorkers;
  labels?: Record<string, string>;
}

/** The cluster's web UIs (YARN, Spark History, ...) through Component Gateway, by name. */
export function gatewayUrlsOf(cluster: gcp.dataproc.Cluster): pulumi.Output<Record<string, string>> {
  return cluster.clusterConfig.apply((c) => c.endpointConfig?.httpPorts ?? {});
}

export function dataprocCluster(
  resourceName: string,
  args: DataprocClusterArgs,
  opts: pulumi.CustomResourceOptions,
): gcp.dataproc.Cluster {
  const { workers } = args;
  // pd-standard: a new project's SSD quota is small; these disks hold logs, Kafka's few GB and shuffle files.
  const diskConfig = { bootDiskType: "pd-standard", bootDiskSizeGb: args.diskSizeGb };
  const workerShape: Partial<gcp.types.input.dataproc.ClusterClusterConfig> =
    workers === undefined
      ? {}
      : {
          workerConfig: { numInstances: workers.count, machineType: workers.machineType, diskConfig },
          // Secondary workers only come and go through the autoscaling policy: the same machine type, never preempted
          // (an hourly run that loses a node mid-query would fail).
          ...(workers.autoscalingPolicy === undefined
            ? {}
            : {
                secondaryWorkerConfig: { numInstances: 0, preemptibility: "NON_PREEMPTIBLE" },
                autoscalingConfig: { policyUri: workers.autoscalingPolicy },
              }),
        };
  return new gcp.dataproc.Cluster(
    resourceName,
    {
      name: args.clusterName,
      region: args.region,
      labels: args.labels,
      clusterConfig: {
        stagingBucket: args.stagingBucket,
        tempBucket: args.tempBucket,
        gceClusterConfig: {
          subnetwork: args.subnetwork,
          internalIpOnly: true,
          serviceAccount: args.serviceAccountEmail,
          serviceAccountScopes: ["https://www.googleapis.com/auth/cloud-platform"],
          tags: [args.networkTag],
          metadata: args.metadata,
          shieldedInstanceConfig: { enableSecureBoot: true, enableVtpm: true, enableIntegrityMonitoring: true },
        },
        masterConfig: { numInstances: 1, machineType: args.machineType, diskConfig },
        ...workerShape,
        softwareConfig: {
          imageVersion: DATAPROC_IMAGE_VERSION,
          overrideProperties: {
            ...(workers === undefined ? { "dataproc:dataproc.allow.zero.workers": "true" } : {}),
            ...args.properties,
          },
        },
        // Component Gateway: YARN, Spark History and Hive UIs through Google's proxy, no public IP needed.
        endpointConfig: { enableHttpPortAccess: true },
        initializationActions: args.initializationActions,
      },
    },
    opts,
  );
}
