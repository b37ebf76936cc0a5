import * as pulumi from "@pulumi/pulumi";
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { DEFAULT_GRAPH, REPO_ROOT, runProgram, stackFileConfig } from "./pulumiProgram";

// Every component of the dev stack registers the outputs a consumer needs (Pulumi shows them, a component
// resource's consumers read them), each resolving to a value; none registers an empty set. Each takes the
// settings it uses, not the whole StackConfig.
const registered = new Map<string, Record<string, unknown>>();
const components = new Set<string>();
let outputs: Record<string, unknown> = {};

beforeAll(async () => {
  const register = jest.spyOn(
    pulumi.ComponentResource.prototype as unknown as { registerOutputs(o?: unknown): void },
    "registerOutputs",
  );
  register.mockImplementation(function (this: { __pulumiType: string; __name: string }, values?: unknown) {
    const component = `${this.__pulumiType} ${this.__name}`;
    components.add(component);
    // Pulumi itself calls it with nothing once a component's (default) initialize is done: not the component's own call.
    if (values !== undefined) registered.set(component, values as Record<string, unknown>);
  });
  const run = await runProgram(stackFileConfig("Pulumi.dev.yaml"));
  register.mockRestore();
  expect(run.error).toBeUndefined();
  expect(run.resources.length).toBeGreaterThan(Object.keys(DEFAULT_GRAPH).length);
  outputs = run.outputs;
}, 120_000);

/** What an output (or a structure of them) resolves to under the mocks. */
function resolved(value: unknown): Promise<unknown> {
  return new Promise((resolve) =>
    (pulumi.output(value as pulumi.Input<object>) as pulumi.Output<unknown>).apply((v) => resolve(v)),
  );
}

/** The component classes declared in stacks/ (`extends pulumi.ComponentResource`), by their Pulumi type. */
function declaredComponents(): string[] {
  const dir = path.join(REPO_ROOT, "stacks");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".ts"))
    .flatMap((f) =>
      [...readFileSync(path.join(dir, f), "utf8").matchAll(/super\("(clickstream:stack:\w+)"/g)].map((m) => m[1]),
    );
}

describe("the stack's components", () => {
  it("each register the outputs a consumer needs, never an empty set", () => {
    const types = new Set([...components].map((k) => k.split(" ")[0]));
    // Every component the dev stack declares was seen (managed Kafka is only declared with `kafka: managed`).
    expect(declaredComponents().filter((t) => !types.has(t))).toEqual(["clickstream:stack:ManagedKafka"]);
    const empty = [...components].filter((c) => Object.keys(registered.get(c) ?? {}).length === 0);
    expect(empty).toEqual([]);
  });

  it("register outputs that resolve to values", async () => {
    const unresolved: string[] = [];
    for (const [component, values] of registered) {
      for (const [key, value] of Object.entries(values)) {
        const v = await resolved(value);
        if (v === undefined || v === "" || (typeof v === "object" && v !== null && Object.keys(v).length === 0)) {
          unresolved.push(`${component}.${key}`);
        }
      }
    }
    expect(unresolved).toEqual([]);
  });

  it("take the settings they use, never the whole stack configuration", () => {
    const dir = path.join(REPO_ROOT, "stacks");
    const whole = readdirSync(dir)
      .filter((f) => f.endsWith(".ts"))
      .flatMap((f) =>
        [
          ...readFileSync(path.join(dir, f), "utf8").matchAll(
            /(?:interface \w+Args \{[^}]*\bconfig: StackConfig\b|args: \{[^}]*\bconfig: StackConfig\b)/g,
          ),
        ].map(() => f),
      );
    expect(whole).toEqual([]);
  });

  it("the storage component's bucket names are the ones the stack exports", async () => {
    const storage = registered.get("clickstream:stack:Storage storage")!;
    expect(await resolved(storage.raw)).toBe(await resolved(outputs.rawBucket));
    expect(await resolved(storage.curated)).toBe(await resolved(outputs.curatedBucket));
    expect(await resolved(storage.artifacts)).toBe(await resolved(outputs.artifactsBucket));
  });
});
