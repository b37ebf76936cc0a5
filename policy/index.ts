// The policy pack: `pulumi preview --policy-pack policy` runs the pipeline's security rules on every resource.
import { PolicyPack } from "@pulumi/policy";
import { securityPolicies } from "./securityPolicies";

new PolicyPack("clickstream-security", { policies: securityPolicies });
