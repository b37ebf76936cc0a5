// A wait after IAM grants: Eventarc validates a trigger's service agents when the trigger is created, and a
// grant made seconds earlier is not yet visible to it (hashicorp/terraform-provider-google#25294).
import * as pulumi from "@pulumi/pulumi";

/** Google documents that an IAM change usually takes 2 minutes, and up to 7, to reach every service. */
export const IAM_PROPAGATION_SECONDS = 420;

export interface PropagationWaitInputs {
  seconds: number;
  /** Ids of the grants waited for; a new or replaced grant makes a new wait. */
  grants: string[];
}

/** Sleeps on create only; an unchanged set of grants never waits again on later deployments. */
export const propagationWaitProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: PropagationWaitInputs) {
    await new Promise((resolve) => setTimeout(resolve, inputs.seconds * 1000));
    return { id: `iam-propagation-${Date.now()}`, outs: inputs };
  },
  async diff(_id: string, olds: PropagationWaitInputs, news: PropagationWaitInputs) {
    const changed = JSON.stringify(olds.grants) !== JSON.stringify(news.grants) || olds.seconds !== news.seconds;
    return { changes: changed, replaces: changed ? ["grants"] : [] };
  },
};

export class IamPropagationWait extends pulumi.dynamic.Resource {
  constructor(name: string, args: { grants: pulumi.Resource[]; seconds?: number }, opts?: pulumi.CustomResourceOptions) {
    const grants = pulumi.all(args.grants.map((g) => (g as pulumi.CustomResource).id));
    super(propagationWaitProvider, name, { seconds: args.seconds ?? IAM_PROPAGATION_SECONDS, grants }, { ...opts, dependsOn: args.grants });
  }
}
