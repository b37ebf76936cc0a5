// A policy run on one resource as the policy engine runs it, for the policy tests.
import type { ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";

/** What the policy engine hands a policy for one resource: its type token and its inputs. */
export function resourceArgs(type: string, props: Record<string, unknown>, name = "r"): ResourceValidationArgs {
  return {
    type,
    props,
    urn: `urn:pulumi:dev::clickstream-pipeline::${type}::${name}`,
    name,
    opts: {},
    isType: () => false,
    asType: () => undefined,
    getConfig: () => ({}),
    notApplicable: () => undefined,
  } as unknown as ResourceValidationArgs;
}

/** The violations a policy reports for one resource. */
export function violations(policy: ResourceValidationPolicy, type: string, props: Record<string, unknown>): string[] {
  const found: string[] = [];
  const validations = Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource];
  for (const validate of validations) validate?.(resourceArgs(type, props), (message) => found.push(message));
  return found;
}
