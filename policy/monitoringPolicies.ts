// Operations rules as Pulumi policies: an alert that pages someone must say what it means and what to check first.
import type { ReportViolation, ResourceValidationPolicy } from "@pulumi/policy";
import { obj, policy, Props } from "./rules";

const ALERT_POLICY = "gcp:monitoring/alertPolicy:AlertPolicy";
/** Google's limit on documentation.content: 8,192 characters and 10,240 bytes in UTF-8. */
const MAX_CONTENT_CHARS = 8192;
const MAX_CONTENT_BYTES = 10240;

/** The checks, as plain functions of a resource's type token and inputs. */
export const checks = {
  alertsCarryDocumentation(type: string, props: Props, report: ReportViolation): void {
    if (type !== ALERT_POLICY) return;
    const content = obj(props.documentation).content;
    if (typeof content !== "string" || content.trim() === "") {
      report("An alert policy must set documentation.content: what the alert means and what to check first.");
      return;
    }
    if ([...content].length > MAX_CONTENT_CHARS || Buffer.byteLength(content, "utf8") > MAX_CONTENT_BYTES) {
      report(
        `An alert policy's documentation.content must stay within ${MAX_CONTENT_CHARS} characters and ${MAX_CONTENT_BYTES} bytes.`,
      );
    }
  },
};

export const monitoringPolicies: ResourceValidationPolicy[] = [
  policy(
    "alerts-carry-documentation",
    "Every alert policy carries documentation saying what it means and what to check first.",
    checks.alertsCarryDocumentation,
  ),
];
