// The policy pack: `pulumi preview --policy-pack policy` runs the pipeline's security, operations and scaling rules on every resource.
import { PolicyPack } from "@pulumi/policy";
import { monitoringPolicies } from "./monitoringPolicies";
import { scalingPolicies } from "./scalingPolicies";
import { securityPolicies } from "./securityPolicies";

new PolicyPack("clickstream-security", { policies: [...securityPolicies, ...monitoringPolicies, ...scalingPolicies] });
