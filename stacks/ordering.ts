// Ordering across components: a component's own dependsOn does not reach the resources declared inside it.
import * as pulumi from "@pulumi/pulumi";

/** Options that make a component, and every resource declared inside it, wait for `resources`. */
export function after(resources: pulumi.Resource[]): pulumi.ComponentResourceOptions {
  return {
    dependsOn: resources,
    // A parent's transformations run on each child as it is declared, so the wait reaches every resource.
    transformations: [({ props, opts }) => ({ props, opts: pulumi.mergeOptions(opts, { dependsOn: resources }) })],
  };
}
