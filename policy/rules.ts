// What every policy module shares: resource inputs as plain records, and a check turned into a mandatory
// Pulumi policy. The checks stay plain functions of (type token, inputs, report), so tests call them directly.
import type { ReportViolation, ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";

export type Props = Record<string, unknown>;
export type Check = (type: string, props: Props, report: ReportViolation) => void;

/** An input that should be an object, or {} when it is not set. */
export const obj = (value: unknown): Props => (value !== null && typeof value === "object" ? (value as Props) : {});
/** An input that should be a list, or [] when it is not set. */
export const list = (value: unknown): Props[] => (Array.isArray(value) ? (value as Props[]) : []);

export const policy = (name: string, description: string, check: Check): ResourceValidationPolicy => ({
  name,
  description,
  enforcementLevel: "mandatory",
  validateResource: (args: ResourceValidationArgs, report: ReportViolation) =>
    check(args.type, args.props as Props, report),
});
