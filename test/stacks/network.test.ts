import * as pulumi from "@pulumi/pulumi";
import { parseStackConfig } from "../../stacks/config";
import { Network } from "../../stacks/network";

// The network component alone, with IAP SSH left at its default (off).
const declared: { type: string; name: string; inputs: Record<string, unknown> }[] = [];

beforeAll(async () => {
  pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        declared.push({ type: args.type, name: args.name, inputs: args.inputs });
        return { id: `${args.name}-id`, state: args.inputs };
      },
      call: () => ({}),
    },
    "clickstream-pipeline",
    "test",
    false,
  );
  new Network("network", parseStackConfig({ "gcp:project": "my-clickstream-dev" }));
  // Waits until every declared resource reached the mocks.
  await pulumi.runtime.disconnect();
});

describe("the network at the default settings", () => {
  it("opens no SSH path unless allowIapSsh is set", () => {
    const rules = declared.filter((r) => r.type === "gcp:compute/firewall:Firewall");
    expect(rules.map((r) => r.name).sort()).toEqual([
      "network-allow-kafka",
      "network-allow-within-hive",
      "network-allow-within-stream",
    ]);
    expect(rules.every((r) => !(r.inputs.allows as { ports?: string[] }[]).some((a) => a.ports?.includes("22")))).toBe(
      true,
    );
  });

  it("has no NAT: Kafka, Node.js and the connector come from the artifacts bucket over Private Google Access", () => {
    expect(declared.filter((r) => /compute\/router/.test(r.type))).toEqual([]);
  });
});
