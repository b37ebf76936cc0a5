// policy/index.ts as the Pulumi CLI runs it: a process that serves the pack over gRPC and prints its port.
import { ChildProcess, spawn } from "node:child_process";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { AnalyzerClient } from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import {
  AnalyzeRequest,
  AnalyzeResponse,
  AnalyzerInfo,
  AnalyzerResourceOptions,
} from "@pulumi/pulumi/proto/analyzer_pb";

const REPO_ROOT = path.resolve(__dirname, "..", "..");
let pack: ChildProcess;
let client: AnalyzerClient;

beforeAll(async () => {
  // The CLI starts the pack in its own folder; its package.json gives the pack's version.
  pack = spawn(path.join(REPO_ROOT, "node_modules", ".bin", "tsx"), ["index.ts"], {
    cwd: path.join(REPO_ROOT, "policy"),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const port = await new Promise<string>((resolve, reject) => {
    let out = "",
      err = "";
    pack.stdout!.on("data", (chunk) => {
      out += chunk;
      if (/^\d+\n/.test(out)) resolve(out.trim());
    });
    pack.stderr!.on("data", (chunk) => (err += chunk));
    pack.on("exit", (code) => reject(new Error(`the policy pack exited with ${code}: ${err}`)));
  });
  client = new AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}, 60_000);

afterAll(() => {
  client?.close();
  if (pack?.pid) process.kill(pack.pid);
});

function analyze(type: string, props: Record<string, unknown>): Promise<AnalyzeResponse> {
  const request = new AnalyzeRequest()
    .setType(type)
    .setName("r")
    .setUrn(`urn:pulumi:dev::clickstream-pipeline::${type}::r`)
    .setOptions(new AnalyzerResourceOptions())
    .setProperties(Struct.fromJavaScript(props as Record<string, never>));
  return new Promise((resolve, reject) =>
    client.analyze(request, (e, response) => (e ? reject(e) : resolve(response))),
  );
}

describe("the policy pack served by policy/index.ts", () => {
  it("offers every rule, each mandatory", async () => {
    const info = await new Promise<AnalyzerInfo>((resolve, reject) =>
      client.getAnalyzerInfo(new Empty(), (e, r) => (e ? reject(e) : resolve(r))),
    );
    expect(info.getName()).toBe("clickstream-security");
    const mandatory = 1; // EnforcementLevel.MANDATORY in Pulumi's analyzer protocol
    expect(
      info
        .getPoliciesList()
        .map((p) => [p.getName(), p.getEnforcementlevel()])
        .sort(),
    ).toEqual([
      ["alerts-carry-documentation", mandatory],
      ["autoscaling-within-google-bounds", mandatory],
      ["internal-ingress-only", mandatory],
      ["managed-kafka-capacity", mandatory],
      ["managed-kafka-topic-replicated", mandatory],
      ["no-autodetected-external-tables", mandatory],
      ["no-autoscaling-where-google-refuses-it", mandatory],
      ["no-blocked-composer-overrides", mandatory],
      ["no-default-service-account", mandatory],
      ["no-external-ips", mandatory],
      ["no-open-firewall", mandatory],
      ["no-primitive-roles", mandatory],
      ["no-project-wide-storage", mandatory],
      ["private-uniform-buckets", mandatory],
    ]);
  });

  it("stops a Composer environment that overrides a blocked option, naming it", async () => {
    const response = await analyze("gcp:composer/environment:Environment", {
      config: {
        enablePrivateEnvironment: true,
        nodeConfig: { serviceAccount: "a@p.iam.gserviceaccount.com" },
        softwareConfig: { airflowConfigOverrides: { "core-load_examples": "False" } },
      },
    });
    expect(response.getDiagnosticsList().map((d) => [d.getPolicyname(), d.getMessage()])).toEqual([
      // The engine prefixes the policy's description to the violation.
      [
        "no-blocked-composer-overrides",
        "No Airflow override that Cloud Composer blocks.\nCloud Composer blocks the Airflow option core-load_examples: remove it from config.softwareConfig.airflowConfigOverrides.",
      ],
    ]);
  });

  it("passes a compliant resource with no diagnostic", async () => {
    const response = await analyze("gcp:projects/iAMMember:IAMMember", {
      project: "p",
      role: "roles/logging.logWriter",
      member: "serviceAccount:a@p.iam.gserviceaccount.com",
    });
    expect(response.getDiagnosticsList()).toEqual([]);
  });
});
