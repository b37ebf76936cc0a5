// The whole program (index.ts) under Pulumi's mocks: the monitoring component watches the resources the other
// components really declare, every alert passes the policy pack's documentation rule, and the dashboard's URL is an output.
import type { ResourceValidationArgs } from "@pulumi/policy";
import { monitoringPolicies } from "../../policy/monitoringPolicies";
import { byType, ProgramRun, runProgram, stackFileConfig } from "./pulumiProgram";

let run: ProgramRun;

beforeAll(async () => {
  const result = await runProgram(stackFileConfig("Pulumi.dev.yaml"));
  if (result.error) throw result.error;
  run = result;
}, 120_000);

describe("monitoring in the deployed program", () => {
  it("exports the dashboard's console URL as dashboardUrl", () => {
    expect(run.outputs.dashboardUrl).toMatch(
      /^https:\/\/console\.cloud\.google\.com\/monitoring\/dashboards\/custom\/[^/?]+\?project=my-clickstream-dev$/,
    );
  });

  it("counts the lines of the loader function, the Composer environment and the streaming cluster the program declares", () => {
    const [fn] = byType(run, "gcp:cloudfunctionsv2/function:Function");
    const [environment] = byType(run, "gcp:composer/environment:Environment");
    const streamCluster = byType(run, "gcp:dataproc/cluster:Cluster").find((c) => c.name.startsWith("streaming"))!;
    const filters = byType(run, "gcp:logging/metric:Metric").map((m) => m.inputs.filter as string);
    expect(filters.filter((f) => f.includes(`resource.labels.service_name="${fn.inputs.name}"`))).toHaveLength(4);
    expect(
      filters.filter((f) => f.includes(`resource.labels.environment_name="${environment.inputs.name}"`)),
    ).toHaveLength(2);
    const alertFilters = byType(run, "gcp:monitoring/alertPolicy:AlertPolicy").flatMap((a) =>
      (a.inputs.conditions as Record<string, { filter: string }>[]).map(
        (c) => (c.conditionThreshold ?? c.conditionAbsent).filter,
      ),
    );
    expect(
      alertFilters.filter((f) => f.includes(`resource.label.cluster_name="${streamCluster.inputs.name}"`)),
    ).toHaveLength(2);
  });

  it("declares only alert policies the policy pack's documentation rule passes", () => {
    const alerts = byType(run, "gcp:monitoring/alertPolicy:AlertPolicy");
    expect(alerts.length).toBeGreaterThanOrEqual(6);
    for (const alert of alerts) {
      const found: string[] = [];
      const args = {
        type: alert.type,
        props: alert.inputs,
        urn: `urn:pulumi:dev::p::${alert.type}::${alert.name}`,
        name: alert.name,
        opts: {},
      } as unknown as ResourceValidationArgs;
      for (const policy of monitoringPolicies)
        [policy.validateResource].flat().forEach((validate) => validate?.(args, (m) => found.push(m)));
      expect(found).toEqual([]);
    }
  });
});
