// Google's eventual consistency, in one table: every delay the stack waits out, with the source that documents it,
// and the one way a consumer waits for it (a Sleep after what it consumes, replaced when that changes).
import * as pulumi from "@pulumi/pulumi";
import * as time from "@pulumiverse/time";

export interface Delay {
  /** How long the consumer waits after the last of what it consumes was created. */
  seconds: number;
  /** What becomes visible late, and who fails if it does not wait. */
  what: string;
  /** Google's documentation or the provider's issue that documents the delay. */
  source: string;
}

/** Every documented delay the stack depends on. A new kind of dependency gets a row here before it gets a wait. */
export const DELAYS = {
  apiEnablement: {
    seconds: 60,
    what: "An API reported enabled can still refuse calls for a while; every resource waits after the APIs are enabled.",
    source:
      'hashicorp/terraform-provider-google#2129 and the provider\'s google_project_service guide ("Using the time provider")',
  },
  serviceAgent: {
    seconds: 60,
    what: "A service agent created through ServiceIdentity is not at once a member IAM accepts; its grants wait for it.",
    source:
      'terraform-google-modules/terraform-docs-samples#264 ("Service account service-...@cloudcomposer-accounts... does not exist"); hashicorp/terraform-provider-google#14584',
  },
  iamGrant: {
    seconds: 420,
    what:
      "A grant takes typically 2 and up to 7 minutes to reach every service: Dataproc checks the node role at create and writes " +
      "to the staging bucket during init, Composer checks composer.worker and ServiceAgentV2Ext, Eventarc its agents at trigger create.",
    source:
      'https://cloud.google.com/iam/docs/access-change-propagation; GoogleCloudPlatform/magic-modules#10403 (Dataproc, "Failed to create event log dir ... 403"); ' +
      "hashicorp/terraform-provider-google#25294 (Eventarc trigger); terraform-google-modules/terraform-docs-samples#264 (Composer ServiceAgentV2Ext)",
  },
  logMetric: {
    seconds: 600,
    what: 'Cloud Monitoring refuses an alert policy on a log-based metric created less than 10 minutes ago ("Cannot find metric(s)").',
    source: "hashicorp/terraform-provider-google#11102; GoogleCloudPlatform/cloud-foundation-fabric#3739",
  },
} as const satisfies Record<string, Delay>;

export type DelayKind = keyof typeof DELAYS;

/** The Sleep's trigger that records which kind of delay it waits out (read by the graph test). */
export const DELAY_KIND_TRIGGER = "delay";

/**
 * A wait of the delay `kind` after `resources`: created after all of them, replaced (so waiting again) when one
 * of them is added or replaced, and never waiting on later deployments that change none of them.
 */
export function settled(
  name: string,
  kind: DelayKind,
  resources: pulumi.Resource[],
  opts?: pulumi.CustomResourceOptions,
): time.Sleep {
  const ids = resources.map((r) => (r as pulumi.CustomResource).id);
  return new time.Sleep(
    name,
    {
      createDuration: `${DELAYS[kind].seconds}s`,
      triggers: pulumi.all(ids).apply((all) => ({ [DELAY_KIND_TRIGGER]: kind, waitsFor: [...all].sort().join(",") })),
    },
    { ...opts, dependsOn: resources },
  );
}
