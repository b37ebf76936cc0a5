import { securityPolicies } from "../../policy/securityPolicies";
import { violations } from "./violations";

const policy = (name: string) => {
  const found = securityPolicies.find((p) => p.name === name);
  if (!found) throw new Error(`no policy ${name}`);
  return found;
};

const DEFAULT_SA = "123456789012-compute@developer.gserviceaccount.com";
const OWN_SA = "clickstream-stream@p.iam.gserviceaccount.com";
const cluster = (gce: Record<string, unknown>) => ({ clusterConfig: { gceClusterConfig: gce } });
const composer = (overrides: Record<string, string>) => ({
  config: { softwareConfig: { airflowConfigOverrides: overrides } },
});

// [policy, resource type, passing inputs, failing inputs, the violation the failing one reports]
const cases: [string, string, Record<string, unknown>, Record<string, unknown>, string][] = [
  [
    "no-external-ips",
    "gcp:dataproc/cluster:Cluster",
    cluster({ internalIpOnly: true }),
    cluster({ internalIpOnly: false }),
    "internalIpOnly",
  ],
  [
    "no-external-ips",
    "gcp:compute/instance:Instance",
    { networkInterfaces: [{ subnetwork: "s" }] },
    { networkInterfaces: [{ subnetwork: "s", accessConfigs: [{}] }] },
    "external IP",
  ],
  [
    "no-external-ips",
    "gcp:compute/instanceTemplate:InstanceTemplate",
    { networkInterfaces: [{ subnetwork: "s" }] },
    { networkInterfaces: [{ subnetwork: "s", accessConfigs: [{ natIp: "" }] }] },
    "accessConfigs",
  ],
  ["no-external-ips", "gcp:compute/address:Address", { addressType: "INTERNAL" }, {}, "INTERNAL"],
  [
    "no-external-ips",
    "gcp:composer/environment:Environment",
    { config: { enablePrivateEnvironment: true } },
    { config: {} },
    "enablePrivateEnvironment",
  ],
  [
    "private-uniform-buckets",
    "gcp:storage/bucket:Bucket",
    { uniformBucketLevelAccess: true, publicAccessPrevention: "enforced" },
    { uniformBucketLevelAccess: true, publicAccessPrevention: "inherited" },
    "publicAccessPrevention",
  ],
  [
    "private-uniform-buckets",
    "gcp:storage/bucket:Bucket",
    { uniformBucketLevelAccess: true, publicAccessPrevention: "enforced" },
    { publicAccessPrevention: "enforced" },
    "uniformBucketLevelAccess",
  ],
  [
    "private-uniform-buckets",
    "gcp:storage/bucketIAMMember:BucketIAMMember",
    { role: "roles/storage.objectViewer", member: `serviceAccount:${OWN_SA}` },
    { role: "roles/storage.objectViewer", member: "allUsers" },
    "allUsers",
  ],
  [
    "private-uniform-buckets",
    "gcp:storage/bucketIAMBinding:BucketIAMBinding",
    { role: "roles/storage.objectViewer", members: [`serviceAccount:${OWN_SA}`] },
    { role: "roles/storage.objectViewer", members: [`serviceAccount:${OWN_SA}`, "allAuthenticatedUsers"] },
    "allAuthenticatedUsers",
  ],
  [
    "no-primitive-roles",
    "gcp:projects/iAMMember:IAMMember",
    { role: "roles/dataproc.worker", member: `serviceAccount:${OWN_SA}` },
    { role: "roles/editor", member: `serviceAccount:${OWN_SA}` },
    "roles/editor",
  ],
  [
    "no-primitive-roles",
    "gcp:projects/iAMMember:IAMMember",
    { role: "roles/logging.logWriter", member: `serviceAccount:${OWN_SA}` },
    { role: "roles/viewer", member: "user:a@b.c" },
    "roles/viewer",
  ],
  [
    "no-primitive-roles",
    "gcp:storage/bucketIAMBinding:BucketIAMBinding",
    { role: "roles/storage.objectViewer", members: ["user:a@b.c"] },
    { role: "roles/owner", members: ["user:a@b.c"] },
    "roles/owner",
  ],
  [
    "no-default-service-account",
    "gcp:dataproc/cluster:Cluster",
    cluster({ serviceAccount: OWN_SA }),
    cluster({ serviceAccount: DEFAULT_SA }),
    "default compute",
  ],
  [
    "no-default-service-account",
    "gcp:dataproc/cluster:Cluster",
    cluster({ serviceAccount: OWN_SA }),
    cluster({}),
    "own service account",
  ],
  // An empty string is no account at all: Google falls back to the default compute account.
  [
    "no-default-service-account",
    "gcp:dataproc/cluster:Cluster",
    cluster({ serviceAccount: OWN_SA }),
    cluster({ serviceAccount: "" }),
    "must name the component's own service account",
  ],
  [
    "no-default-service-account",
    "gcp:composer/environment:Environment",
    { config: { nodeConfig: { serviceAccount: OWN_SA } } },
    { config: {} },
    "config.nodeConfig.serviceAccount",
  ],
  [
    "no-default-service-account",
    "gcp:cloudfunctionsv2/function:Function",
    {
      serviceConfig: { serviceAccountEmail: OWN_SA },
      buildConfig: { serviceAccount: `projects/p/serviceAccounts/${OWN_SA}` },
    },
    {
      serviceConfig: { serviceAccountEmail: OWN_SA },
      buildConfig: { serviceAccount: `projects/p/serviceAccounts/${DEFAULT_SA}` },
    },
    "buildConfig.serviceAccount",
  ],
  [
    "no-default-service-account",
    "gcp:compute/instance:Instance",
    { serviceAccount: { email: OWN_SA } },
    { serviceAccount: { email: DEFAULT_SA } },
    "serviceAccount.email must not be the default",
  ],
  [
    "no-default-service-account",
    "gcp:cloudfunctionsv2/function:Function",
    {
      serviceConfig: { serviceAccountEmail: OWN_SA },
      buildConfig: { serviceAccount: OWN_SA },
      eventTrigger: { serviceAccountEmail: OWN_SA },
    },
    { serviceConfig: { serviceAccountEmail: OWN_SA }, buildConfig: { serviceAccount: OWN_SA }, eventTrigger: {} },
    "eventTrigger.serviceAccountEmail",
  ],
  [
    "no-default-service-account",
    "gcp:projects/iAMMember:IAMMember",
    { role: "roles/logging.logWriter", member: `serviceAccount:${OWN_SA}` },
    { role: "roles/logging.logWriter", member: `serviceAccount:${DEFAULT_SA}` },
    "default compute",
  ],
  [
    "internal-ingress-only",
    "gcp:cloudfunctionsv2/function:Function",
    { serviceConfig: { ingressSettings: "ALLOW_INTERNAL_ONLY" } },
    { serviceConfig: { ingressSettings: "ALLOW_ALL" } },
    "ALLOW_INTERNAL_ONLY",
  ],
  [
    "internal-ingress-only",
    "gcp:cloudfunctions/function:Function",
    { ingressSettings: "ALLOW_INTERNAL_ONLY" },
    { ingressSettings: "ALLOW_ALL" },
    "ingressSettings to ALLOW_INTERNAL_ONLY",
  ],
  [
    "internal-ingress-only",
    "gcp:cloudrunv2/service:Service",
    { ingress: "INGRESS_TRAFFIC_INTERNAL_ONLY" },
    { ingress: "INGRESS_TRAFFIC_ALL" },
    "INGRESS_TRAFFIC_INTERNAL_ONLY",
  ],
  [
    "no-open-firewall",
    "gcp:compute/firewall:Firewall",
    { direction: "INGRESS", sourceRanges: ["10.20.0.0/24"], allows: [{ protocol: "tcp" }] },
    { direction: "INGRESS", sourceRanges: ["0.0.0.0/0"], allows: [{ protocol: "tcp", ports: ["22"] }] },
    "0.0.0.0/0",
  ],
  [
    "no-open-firewall",
    "gcp:compute/firewall:Firewall",
    { direction: "INGRESS", sourceRanges: ["35.235.240.0/20"], allows: [{ protocol: "tcp" }] },
    { sourceRanges: ["::/0"], allows: [{ protocol: "all" }] },
    "0.0.0.0/0",
  ],
  // No source range, tag or account: Google Cloud applies the rule to 0.0.0.0/0.
  [
    "no-open-firewall",
    "gcp:compute/firewall:Firewall",
    { direction: "INGRESS", sourceTags: ["dataproc"], allows: [{ protocol: "tcp" }] },
    { direction: "INGRESS", allows: [{ protocol: "tcp", ports: ["8080"] }] },
    "names no source",
  ],
  [
    "no-blocked-composer-overrides",
    "gcp:composer/environment:Environment",
    composer({ "scheduler-catchup_by_default": "False" }),
    composer({ "scheduler-catchup_by_default": "False", "core-load_examples": "False" }),
    "core-load_examples",
  ],
  // A whole section is blocked: any cli option.
  [
    "no-blocked-composer-overrides",
    "gcp:composer/environment:Environment",
    composer({ "webserver-dag_orientation": "RL" }),
    composer({ "cli-endpoint_url": "http://x" }),
    "cli-endpoint_url",
  ],
  [
    "no-autodetected-external-tables",
    "gcp:bigquery/table:Table",
    { externalDataConfiguration: { sourceFormat: "PARQUET", autodetect: false, schema: "[]" } },
    { externalDataConfiguration: { sourceFormat: "PARQUET", autodetect: true } },
    "autodetect to false",
  ],
  [
    "no-project-wide-storage",
    "gcp:projects/iAMMember:IAMMember",
    { role: "projects/p/roles/clickstreamDataprocNode", member: `serviceAccount:${OWN_SA}` },
    { role: "roles/dataproc.worker", member: `serviceAccount:${OWN_SA}` },
    "roles/dataproc.worker carries storage permissions",
  ],
  [
    "no-project-wide-storage",
    "gcp:projects/iAMMember:IAMMember",
    { role: "roles/composer.worker", member: `serviceAccount:${OWN_SA}` },
    { role: "roles/dataflow.worker", member: `serviceAccount:${OWN_SA}` },
    "roles/dataflow.worker",
  ],
  [
    "no-project-wide-storage",
    "gcp:projects/iAMBinding:IAMBinding",
    { role: "roles/bigquery.jobUser", members: [`serviceAccount:${OWN_SA}`] },
    { role: "roles/cloudbuild.builds.builder", members: [`serviceAccount:${OWN_SA}`] },
    "roles/cloudbuild.builds.builder",
  ],
  // A storage role is fine on a bucket and too wide on the project.
  [
    "no-project-wide-storage",
    "gcp:storage/bucketIAMMember:BucketIAMMember",
    { role: "roles/storage.objectViewer", member: `serviceAccount:${OWN_SA}` },
    { role: "roles/storage.admin", member: `serviceAccount:${OWN_SA}` },
    "roles/storage.objectAdmin or objectUser",
  ],
  [
    "no-project-wide-storage",
    "gcp:projects/iAMMember:IAMMember",
    { role: "roles/eventarc.eventReceiver", member: `serviceAccount:${OWN_SA}` },
    { role: "roles/storage.objectViewer", member: `serviceAccount:${OWN_SA}` },
    "every bucket of the project",
  ],
  // A project grant whose condition names one bucket is as narrow as a bucket grant; a prefix of every bucket is not.
  [
    "no-project-wide-storage",
    "gcp:projects/iAMMember:IAMMember",
    {
      role: "roles/storage.objectViewer",
      member: `serviceAccount:${OWN_SA}`,
      condition: {
        title: "t",
        expression: 'resource.name.startsWith("projects/_/buckets/gcf-v2-sources-1-us-central1/")',
      },
    },
    {
      role: "roles/storage.objectViewer",
      member: `serviceAccount:${OWN_SA}`,
      condition: { title: "t", expression: 'resource.name.startsWith("projects/_/buckets/")' },
    },
    "every bucket of the project",
  ],
];

describe("the security policy pack", () => {
  it("has one mandatory policy per rule", () => {
    expect(securityPolicies.map((p) => p.name).sort()).toEqual([
      "internal-ingress-only",
      "no-autodetected-external-tables",
      "no-blocked-composer-overrides",
      "no-default-service-account",
      "no-external-ips",
      "no-open-firewall",
      "no-primitive-roles",
      "no-project-wide-storage",
      "private-uniform-buckets",
    ]);
    expect(securityPolicies.every((p) => p.enforcementLevel === "mandatory")).toBe(true);
  });

  it("covers every policy with a passing and a failing resource", () => {
    expect(new Set(cases.map(([name]) => name))).toEqual(new Set(securityPolicies.map((p) => p.name)));
  });

  it.each(cases)("%s passes a compliant %s and rejects a violating one", (name, type, passing, failing, expected) => {
    expect(violations(policy(name), type, passing)).toEqual([]);
    const found = violations(policy(name), type, failing);
    expect(found).toHaveLength(1);
    expect(found[0]).toContain(expected);
  });

  it("ignores resource types a policy does not govern", () => {
    for (const p of securityPolicies)
      expect(violations(p, "gcp:bigquery/dataset:Dataset", { datasetId: "d" })).toEqual([]);
  });
});

describe("what each security rule reads, and only there", () => {
  const check = (name: string, type: string, props: Record<string, unknown>) => violations(policy(name), type, props);
  const GRANT = "gcp:projects/iAMMember:IAMMember";

  it("leaves a resource it does not govern alone, whatever fields it carries", () => {
    const everything = {
      networkInterfaces: [{ accessConfigs: [{}] }],
      role: "roles/owner",
      member: "allUsers",
      config: { softwareConfig: { airflowConfigOverrides: { "core-dags_folder": "/elsewhere" } } },
      externalDataConfiguration: { autodetect: true },
      allows: [{ protocol: "tcp" }],
    };
    for (const p of securityPolicies) expect(violations(p, "gcp:compute/router:Router", everything)).toEqual([]);
  });

  it("takes removing a member for what it is, not a grant", () => {
    expect(
      check("no-primitive-roles", "gcp:projects/iAMMemberRemove:IAMMemberRemove", { role: "roles/owner" }),
    ).toEqual([]);
  });

  it("finds one interface with an external address among several", () => {
    const nics = [{ accessConfigs: [] }, { accessConfigs: [{ natIp: "" }] }];
    expect(check("no-external-ips", "gcp:compute/instance:Instance", { networkInterfaces: nics })).toHaveLength(1);
  });

  it("reports a public member of a bucket only on a bucket's grant", () => {
    expect(check("private-uniform-buckets", GRANT, { member: "allUsers", role: "roles/logging.logWriter" })).toEqual(
      [],
    );
  });

  it("names the setting that falls back to the default compute account", () => {
    expect(check("no-default-service-account", "gcp:dataproc/cluster:Cluster", { clusterConfig: {} })).toEqual([
      "clusterConfig.gceClusterConfig.serviceAccount must name the component's own service account, not fall back to the default compute account.",
    ]);
    expect(
      check("no-default-service-account", "gcp:cloudfunctionsv2/function:Function", {
        serviceConfig: { serviceAccountEmail: "" },
        buildConfig: { serviceAccount: "projects/p/serviceAccounts/b@p.iam.gserviceaccount.com" },
      }),
    ).toEqual([
      "serviceConfig.serviceAccountEmail must name the component's own service account, not fall back to the default compute account.",
    ]);
    expect(
      check("no-default-service-account", "gcp:projects/iAMBinding:IAMBinding", {
        role: "roles/logging.logWriter",
        members: [`serviceAccount:${OWN_SA}`, `serviceAccount:${DEFAULT_SA}`],
      }),
    ).toEqual(["Roles must not be granted to the default compute service account."]);
  });

  it("reads a grant without a role as no storage grant", () => {
    expect(check("no-project-wide-storage", GRANT, { member: `serviceAccount:${OWN_SA}` })).toEqual([]);
  });

  it.each([
    ['resource.name.startsWith("projects/_/buckets/b/objects/dags/")', 0],
    ['resource.name.startsWith("projects/_/buckets/b/") || true', 1],
    ['true || resource.name.startsWith("projects/_/buckets/b/")', 1],
  ])("counts a project grant conditioned on %s as one bucket's: %i violations", (expression, found) => {
    const grant = {
      role: "roles/storage.objectViewer",
      member: `serviceAccount:${OWN_SA}`,
      condition: { title: "t", expression },
    };
    expect(check("no-project-wide-storage", GRANT, grant)).toHaveLength(found);
  });

  it.each([
    ["an egress rule", { direction: "EGRESS", allows: [{ protocol: "tcp" }], destinationRanges: ["0.0.0.0/0"] }],
    ["a rule that only denies", { denies: [{ protocol: "tcp" }], sourceRanges: ["0.0.0.0/0"] }],
    ["a rule from an internal range", { allows: [{ protocol: "tcp" }], sourceRanges: ["10.128.0.0/9"] }],
    ["a rule from tagged instances", { allows: [{ protocol: "tcp" }], sourceTags: ["dataproc"] }],
    ["a rule from a service account", { allows: [{ protocol: "tcp" }], sourceServiceAccounts: [OWN_SA] }],
  ])("lets %s through the open-firewall rule", (_what, rule) => {
    expect(check("no-open-firewall", "gcp:compute/firewall:Firewall", rule)).toEqual([]);
  });
});
