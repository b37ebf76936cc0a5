// The pipeline's security rules as Pulumi policies: each checks resource inputs by type token, so tests can
// run them on plain objects and the policy pack runs them on every `pulumi preview` / `pulumi up`.
import type { ReportViolation, ResourceValidationPolicy } from "@pulumi/policy";
import { list, obj, policy, Props } from "./rules";
import { isBlockedOverride } from "./composerBlockedOptions";

const PRIMITIVE_ROLES = new Set(["roles/owner", "roles/editor", "roles/viewer"]);
const PUBLIC_MEMBERS = new Set(["allUsers", "allAuthenticatedUsers"]);
const DEFAULT_COMPUTE_ACCOUNT = /-compute@developer\.gserviceaccount\.com$/;
const OPEN_RANGES = new Set(["0.0.0.0/0", "::/0"]);
/**
 * Predefined roles that carry storage permissions on every bucket of the project when granted there. Not
 * roles/composer.worker: Composer requires it on an environment's account (creation fails without it), so
 * the stack grants it and the access table of docs/access.md says what it reaches.
 */
const PROJECT_WIDE_STORAGE_ROLES = new Set([
  "roles/owner",
  "roles/editor",
  "roles/viewer",
  "roles/dataproc.worker",
  "roles/cloudbuild.builds.builder",
  "roles/dataflow.worker",
]);
/** A grant on a whole project, folder or organization (every bucket in it). */
const isProjectWideGrant = (type: string) => /^gcp:(projects|organizations|folder)\/iAM(Member|Binding):/.test(type);
const BUCKET_GRANT = /^gcp:storage\/bucketIAM(Member|Binding):/;

const isIamGrant = (type: string) => /:[A-Za-z0-9]*(IAM|Iam)(Member|Binding)$/.test(type);
const membersOf = (props: Props): string[] =>
  [props.member, ...list(props.members)].filter((m): m is string => typeof m === "string");

/** The checks, as plain functions of a resource's type token and inputs. */
export const checks = {
  noExternalIps(type: string, props: Props, report: ReportViolation): void {
    if (type === "gcp:compute/instance:Instance" || type === "gcp:compute/instanceTemplate:InstanceTemplate") {
      if (list(props.networkInterfaces).some((nic) => list(nic.accessConfigs).length > 0)) {
        report("A VM must not have an external IP address: remove networkInterfaces[].accessConfigs.");
      }
    }
    if (type === "gcp:dataproc/cluster:Cluster") {
      const gce = obj(obj(props.clusterConfig).gceClusterConfig);
      if (gce.internalIpOnly !== true)
        report("A Dataproc cluster must set clusterConfig.gceClusterConfig.internalIpOnly to true.");
    }
    if (type === "gcp:compute/address:Address" && props.addressType !== "INTERNAL") {
      report("Only internal IP addresses may be reserved: set addressType to INTERNAL.");
    }
    if (type === "gcp:composer/environment:Environment" && obj(props.config).enablePrivateEnvironment !== true) {
      report("A Composer environment must be private: set config.enablePrivateEnvironment to true.");
    }
  },

  privateUniformBuckets(type: string, props: Props, report: ReportViolation): void {
    if (type === "gcp:storage/bucket:Bucket") {
      if (props.uniformBucketLevelAccess !== true)
        report("A bucket must enable uniformBucketLevelAccess (no per-object ACLs).");
      if (props.publicAccessPrevention !== "enforced")
        report('A bucket must set publicAccessPrevention to "enforced".');
    }
    if (type.startsWith("gcp:storage/") && isIamGrant(type) && membersOf(props).some((m) => PUBLIC_MEMBERS.has(m))) {
      report("A bucket must not be granted to allUsers or allAuthenticatedUsers.");
    }
  },

  noPrimitiveRoles(type: string, props: Props, report: ReportViolation): void {
    if (isIamGrant(type) && typeof props.role === "string" && PRIMITIVE_ROLES.has(props.role)) {
      report(`The primitive role ${props.role} is too broad: grant a predefined or custom role instead.`);
    }
  },

  noDefaultServiceAccount(type: string, props: Props, report: ReportViolation): void {
    const flag = (where: string, value: unknown) => {
      if (typeof value !== "string" || value === "")
        report(`${where} must name the component's own service account, not fall back to the default compute account.`);
      else if (DEFAULT_COMPUTE_ACCOUNT.test(value)) report(`${where} must not be the default compute service account.`);
    };
    if (type === "gcp:dataproc/cluster:Cluster")
      flag(
        "clusterConfig.gceClusterConfig.serviceAccount",
        obj(obj(props.clusterConfig).gceClusterConfig).serviceAccount,
      );
    if (type === "gcp:compute/instance:Instance") flag("serviceAccount.email", obj(props.serviceAccount).email);
    if (type === "gcp:composer/environment:Environment")
      flag("config.nodeConfig.serviceAccount", obj(obj(props.config).nodeConfig).serviceAccount);
    if (type === "gcp:cloudfunctionsv2/function:Function") {
      flag("serviceConfig.serviceAccountEmail", obj(props.serviceConfig).serviceAccountEmail);
      flag("buildConfig.serviceAccount", obj(props.buildConfig).serviceAccount);
      if (props.eventTrigger !== undefined)
        flag("eventTrigger.serviceAccountEmail", obj(props.eventTrigger).serviceAccountEmail);
    }
    if (isIamGrant(type) && membersOf(props).some((m) => DEFAULT_COMPUTE_ACCOUNT.test(m))) {
      report("Roles must not be granted to the default compute service account.");
    }
  },

  internalIngressOnly(type: string, props: Props, report: ReportViolation): void {
    if (
      type === "gcp:cloudfunctionsv2/function:Function" &&
      obj(props.serviceConfig).ingressSettings !== "ALLOW_INTERNAL_ONLY"
    ) {
      report("A function must set serviceConfig.ingressSettings to ALLOW_INTERNAL_ONLY.");
    }
    if (type === "gcp:cloudfunctions/function:Function" && props.ingressSettings !== "ALLOW_INTERNAL_ONLY") {
      report("A function must set ingressSettings to ALLOW_INTERNAL_ONLY.");
    }
    if (type === "gcp:cloudrunv2/service:Service" && props.ingress !== "INGRESS_TRAFFIC_INTERNAL_ONLY") {
      report("A Cloud Run service must set ingress to INGRESS_TRAFFIC_INTERNAL_ONLY.");
    }
  },

  noBlockedComposerOverrides(type: string, props: Props, report: ReportViolation): void {
    if (type !== "gcp:composer/environment:Environment") return;
    const overrides = obj(obj(obj(props.config).softwareConfig).airflowConfigOverrides);
    for (const key of Object.keys(overrides).filter(isBlockedOverride)) {
      report(
        `Cloud Composer blocks the Airflow option ${key}: remove it from config.softwareConfig.airflowConfigOverrides.`,
      );
    }
  },

  noAutodetectedExternalTables(type: string, props: Props, report: ReportViolation): void {
    if (type !== "gcp:bigquery/table:Table") return;
    // Autodetect reads source files, and a table created with its pipeline has none yet.
    if (obj(props.externalDataConfiguration).autodetect === true) {
      report(
        "An external table must declare its schema: set externalDataConfiguration.autodetect to false and give the schema.",
      );
    }
  },

  noProjectWideStorage(type: string, props: Props, report: ReportViolation): void {
    const role = props.role;
    if (typeof role !== "string") return;
    // A condition naming one bucket makes a project grant as narrow as a bucket grant.
    const oneBucket = /^resource\.name\.startsWith\("projects\/_\/buckets\/[a-z0-9._-]+\/[^"]*"\)$/.test(
      String(obj(props.condition).expression ?? ""),
    );
    if (
      isProjectWideGrant(type) &&
      !oneBucket &&
      (PROJECT_WIDE_STORAGE_ROLES.has(role) || role.startsWith("roles/storage."))
    ) {
      report(
        `The role ${role} carries storage permissions on every bucket of the project: grant a custom role without them, and bucket roles on the buckets needed.`,
      );
    }
    if (BUCKET_GRANT.test(type) && role === "roles/storage.admin") {
      report(
        "roles/storage.admin on a bucket also allows deleting it and changing its IAM: grant roles/storage.objectAdmin or objectUser.",
      );
    }
  },

  noOpenFirewall(type: string, props: Props, report: ReportViolation): void {
    if (type !== "gcp:compute/firewall:Firewall") return;
    const ingress = props.direction === undefined || props.direction === "INGRESS";
    const allows = list(props.allows).length > 0;
    const ranges = list(props.sourceRanges);
    // An ingress rule that names no source at all is applied by Google Cloud as 0.0.0.0/0.
    const noSource =
      ranges.length === 0 && list(props.sourceTags).length === 0 && list(props.sourceServiceAccounts).length === 0;
    const open = noSource || ranges.some((r) => typeof r === "string" && OPEN_RANGES.has(r));
    if (ingress && allows && open)
      report(
        "A firewall rule must not allow ingress from 0.0.0.0/0 or ::/0 (also the default when it names no source).",
      );
  },
};

export const securityPolicies: ResourceValidationPolicy[] = [
  policy(
    "no-external-ips",
    "No VM, Dataproc cluster, address or Composer environment with an external IP.",
    checks.noExternalIps,
  ),
  policy(
    "private-uniform-buckets",
    "Buckets use uniform bucket-level access, enforce public access prevention and are never public.",
    checks.privateUniformBuckets,
  ),
  policy("no-primitive-roles", "No owner, editor or viewer grants.", checks.noPrimitiveRoles),
  policy(
    "no-default-service-account",
    "Every workload runs as its own service account, never the default compute account.",
    checks.noDefaultServiceAccount,
  ),
  policy(
    "internal-ingress-only",
    "Functions and Cloud Run services accept internal traffic only.",
    checks.internalIngressOnly,
  ),
  policy("no-open-firewall", "No firewall rule admits traffic from the whole internet.", checks.noOpenFirewall),
  policy(
    "no-blocked-composer-overrides",
    "No Airflow override that Cloud Composer blocks.",
    checks.noBlockedComposerOverrides,
  ),
  policy(
    "no-autodetected-external-tables",
    "External tables declare their schema; autodetect fails on a bucket that is still empty.",
    checks.noAutodetectedExternalTables,
  ),
  policy(
    "no-project-wide-storage",
    "No role that reaches every bucket of the project, and no bucket admin.",
    checks.noProjectWideStorage,
  ),
];
