import { DELAY_KIND_TRIGGER, DelayKind, DELAYS } from "../../stacks/consistency";
import { DeclaredResource, ProgramRun, runProgram, stackFileConfig } from "./pulumiProgram";

const SLEEP = "time:index/sleep:Sleep";
const GRANT = /IAMMember|IamMember|IAMBinding|IamBinding|IAMPolicy|IamPolicy/;
/** What starts seconds after its grants and fails when Google does not see them yet. */
const IAM_CONSUMERS = new Set([
  "gcp:dataproc/cluster:Cluster",
  "gcp:composer/environment:Environment",
  "gcp:cloudfunctionsv2/function:Function",
  "gcp:cloudfunctions/function:Function",
  "gcp:eventarc/trigger:Trigger",
]);
const SERVICE_ACCOUNT = /[a-z0-9-]+@[a-z0-9-]+\.iam\.gserviceaccount\.com/g;
const AGENT_MEMBER = /^serviceAccount:service-\d+@/;
const ALERT = "gcp:monitoring/alertPolicy:AlertPolicy";
const USER_METRIC = /logging\.googleapis\.com\/user\/([^"\s]+)/g;

/** Every resource a resource waits for, directly or through others (dependsOn and the outputs it reads). */
function upstreamOf(graph: ProgramRun): (name: string) => Set<string> {
  const byName = new Map(graph.resources.map((r) => [r.name, r]));
  const memo = new Map<string, Set<string>>();
  const visit = (name: string): Set<string> => {
    const known = memo.get(name);
    if (known) return known;
    const all = new Set<string>();
    memo.set(name, all);
    const r = byName.get(name);
    for (const d of r ? [...r.dependsOn, ...r.inputsFrom] : []) {
      if (d === name) continue;
      all.add(d);
      for (const u of visit(d)) all.add(u);
    }
    return all;
  };
  return visit;
}

const kindOf = (sleep: DeclaredResource) => sleep.inputs.triggers?.[DELAY_KIND_TRIGGER] as DelayKind | undefined;

/** Every consumer of an eventually consistent resource that does not wait for the right delay after it, one sentence each. */
function missingWaits(graph: ProgramRun): string[] {
  const upstream = upstreamOf(graph);
  const sleeps = graph.resources.filter((r) => r.type === SLEEP);
  const problems: string[] = [];
  // A wait of `kind` that `consumer` is downstream of and that was declared directly after `consumed`.
  const waitsAfter = (consumer: DeclaredResource, kind: DelayKind, consumed: DeclaredResource) =>
    sleeps.some(
      (s) => kindOf(s) === kind && s.dependsOn.includes(consumed.name) && upstream(consumer.name).has(s.name),
    );

  for (const s of sleeps) {
    const kind = kindOf(s);
    if (!kind || !(kind in DELAYS)) problems.push(`${s.name} names no delay of the table`);
    else if (s.inputs.createDuration !== `${DELAYS[kind].seconds}s`)
      problems.push(`${s.name} waits ${s.inputs.createDuration}, not the table's ${DELAYS[kind].seconds}s`);
  }

  const apis = graph.resources.filter((r) => r.type === "gcp:projects/service:Service");
  for (const r of graph.resources.filter(
    (x) => x.type.startsWith("gcp:") && x.type !== "gcp:projects/service:Service",
  )) {
    for (const api of apis)
      if (!waitsAfter(r, "apiEnablement", api)) problems.push(`${r.name} does not wait for ${api.name} to answer`);
  }

  const agents = graph.resources.filter((r) => r.type === "gcp:projects/serviceIdentity:ServiceIdentity");
  const grants = graph.resources.filter((r) => GRANT.test(r.type));
  for (const g of grants) {
    for (const agent of agents.filter((a) => a.state.member === g.inputs.member)) {
      if (!waitsAfter(g, "serviceAgent", agent))
        problems.push(`${g.name} grants to ${agent.name} without waiting for the agent to exist`);
    }
  }

  const consumers = graph.resources.filter((r) => IAM_CONSUMERS.has(r.type));
  for (const c of consumers) {
    // What it consumes: the grants to the accounts it names, and to Google's agents, which act for every service.
    const accounts = new Set(
      [...JSON.stringify(c.inputs).matchAll(SERVICE_ACCOUNT)].map(([email]) => `serviceAccount:${email}`),
    );
    const consumed = grants.filter((g) => accounts.has(g.inputs.member) || AGENT_MEMBER.test(g.inputs.member ?? ""));
    // A grant made on the consumer itself (or after it) is used when the pipeline runs, not when it is created.
    const before = consumed.filter((g) => !consumers.some((other) => upstream(g.name).has(other.name)));
    for (const g of before)
      if (!waitsAfter(c, "iamGrant", g)) problems.push(`${c.name} does not wait for ${g.name} to propagate`);
  }

  const metrics = new Map(
    graph.resources.filter((r) => r.type === "gcp:logging/metric:Metric").map((m) => [m.inputs.name as string, m]),
  );
  for (const alert of graph.resources.filter((r) => r.type === ALERT)) {
    for (const [, metricName] of JSON.stringify(alert.inputs.conditions).matchAll(USER_METRIC)) {
      const metric = metrics.get(metricName.replace(/\\$/, ""));
      if (!metric) problems.push(`${alert.name} reads ${metricName}, which the stack does not create`);
      else if (!waitsAfter(alert, "logMetric", metric))
        problems.push(`${alert.name} does not wait for ${metric.name} to become available`);
    }
  }
  return problems;
}

describe("Google's eventual consistency, waited out (Pulumi mocks)", () => {
  let dev: ProgramRun;
  beforeAll(async () => {
    const result = await runProgram(stackFileConfig("Pulumi.dev.yaml"));
    if (result.error) throw result.error;
    dev = result;
  }, 60_000);

  it("every delay of the table names its source and waits at least as long as the source documents", () => {
    for (const [kind, delay] of Object.entries(DELAYS)) {
      expect([kind, delay.source]).toEqual([kind, expect.stringMatching(/(#\d+|https:\/\/cloud\.google\.com\/)/)]);
      expect(delay.seconds).toBeGreaterThan(0);
    }
    expect(DELAYS.iamGrant.seconds).toBeGreaterThanOrEqual(7 * 60);
    expect(DELAYS.logMetric.seconds).toBeGreaterThanOrEqual(10 * 60);
  });

  it("every cluster, environment, function, trigger and alert waits for the delay after what it consumes", () => {
    const consumers = dev.resources.filter((r) => IAM_CONSUMERS.has(r.type) || r.type === ALERT);
    expect(consumers.length).toBeGreaterThanOrEqual(2 + 1 + 1 + 6);
    expect(missingWaits(dev)).toEqual([]);
  });

  it("the waits are Sleeps of the time provider, one per kind of delay, and nothing else waits by hand", () => {
    const kinds = dev.resources
      .filter((r) => r.type === SLEEP)
      .map(kindOf)
      .sort();
    expect(kinds).toEqual(["apiEnablement", "iamGrant", "iamGrant", "logMetric", "serviceAgent"]);
    expect(dev.resources.filter((r) => r.type.includes("dynamic"))).toEqual([]);
  });

  it("a grant added without its wait is found", () => {
    const grant: DeclaredResource = {
      type: "gcp:storage/bucketIAMMember:BucketIAMMember",
      name: "identity-new-grant",
      inputs: {
        member: "serviceAccount:clickstream-hive@my-clickstream-dev.iam.gserviceaccount.com",
        role: "roles/storage.objectViewer",
      },
      state: {},
      dependsOn: ["apis-ready"],
      inputsFrom: [],
      aliases: [],
    };
    const problems = missingWaits({ ...dev, resources: [...dev.resources, grant] });
    expect(problems).toEqual(["hive-cluster does not wait for identity-new-grant to propagate"]);
  });

  it("an alert added without the wait after its metric is found", () => {
    // A metric that shares no name with an alert: the graph is keyed by resource name, and an alert named like its
    // metric (loader-errors, offsets-lost) would lend the metric its own dependencies.
    const metric = dev.resources.find(
      (r) =>
        r.type === "gcp:logging/metric:Metric" && !dev.resources.some((a) => a.type === ALERT && a.name === r.name),
    )!;
    const alert: DeclaredResource = {
      type: ALERT,
      name: "monitoring-new-alert",
      inputs: {
        conditions: [
          { conditionThreshold: { filter: `metric.type="logging.googleapis.com/user/${metric.inputs.name}"` } },
        ],
      },
      state: {},
      dependsOn: ["apis-ready", metric.name],
      inputsFrom: [],
      aliases: [],
    };
    expect(missingWaits({ ...dev, resources: [...dev.resources, alert] })).toEqual([
      `monitoring-new-alert does not wait for ${metric.name} to become available`,
    ]);
  });

  it("a grant to a service agent made without waiting for the agent is found", () => {
    const agent = dev.resources.find((r) => r.type === "gcp:projects/serviceIdentity:ServiceIdentity")!;
    const grant: DeclaredResource = {
      type: "gcp:projects/iAMMember:IAMMember",
      name: "identity-agent-grant",
      inputs: { member: agent.state.member, role: "roles/viewer" },
      state: {},
      dependsOn: ["apis-ready", agent.name],
      inputsFrom: [],
      aliases: [],
    };
    expect(missingWaits({ ...dev, resources: [...dev.resources, grant] })).toContain(
      `identity-agent-grant grants to ${agent.name} without waiting for the agent to exist`,
    );
  });
});
