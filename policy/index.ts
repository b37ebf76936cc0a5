// The policy pack: `pulumi preview --policy-pack policy` runs the pipeline's security and operations rules on every resource.
import { PolicyPack } from "@pulumi/policy";
import { monitoringPolicies } from "./monitoringPolicies";
import { securityPolicies } from "./securityPolicies";

new PolicyPack("clickstream-security", { policies: [...securityPolicies, ...monitoringPolicies] });
