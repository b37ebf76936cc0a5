import { createServer, IncomingMessage, Server } from "node:http";
import type { AddressInfo } from "node:net";
import { managedKafkaToken, oauthBearerFromMetadata } from "../../generator/googleToken";

// A stand-in for the VM's metadata server on loopback: the network boundary of the token fetch.
const EMAIL = "clickstream-stream@my-clickstream-dev.iam.gserviceaccount.com";
const ACCESS_TOKEN = "ya29.a0-stand-in-token";
let server: Server;
const requests: IncomingMessage[] = [];
let status = 200;

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req);
    const body =
      req.url === "/computeMetadata/v1/instance/service-accounts/default/email"
        ? EMAIL
        : req.url === "/computeMetadata/v1/instance/service-accounts/default/token"
          ? JSON.stringify({ access_token: ACCESS_TOKEN, expires_in: 3599, token_type: "Bearer" })
          : undefined;
    const ok = status === 200 && body !== undefined && req.headers["metadata-flavor"] === "Google";
    res.writeHead(ok ? 200 : status === 200 ? 404 : status, {
      "Content-Type": body?.startsWith("{") ? "application/json" : "application/text",
      "Metadata-Flavor": "Google",
    });
    res.end(ok ? body : "not found");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  process.env.GCE_METADATA_HOST = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  delete process.env.GCE_METADATA_HOST;
  await new Promise((resolve) => server.close(resolve));
});

const decode = (part: string) => Buffer.from(part, "base64url").toString("utf8");

describe("the Managed Kafka token from the VM's metadata server", () => {
  it("is Google's three base64url parts: the GOOG_OAUTH2_TOKEN header, the account's claims, the access token", async () => {
    status = 200;
    const now = Date.UTC(2026, 10, 28, 9, 0, 0);
    const { value } = await oauthBearerFromMetadata(() => now);
    const parts = value.split(".");
    expect(parts).toHaveLength(3);
    expect(parts.every((p) => /^[A-Za-z0-9_-]+$/.test(p))).toBe(true);
    expect(JSON.parse(decode(parts[0]))).toEqual({ typ: "JWT", alg: "GOOG_OAUTH2_TOKEN" });
    expect(JSON.parse(decode(parts[1]))).toEqual({
      exp: now / 1000 + 3599,
      iat: now / 1000,
      scope: "kafka",
      sub: EMAIL,
    });
    expect(decode(parts[2])).toBe(ACCESS_TOKEN);
    // Both reads asked the metadata server as Google requires, with the Metadata-Flavor header.
    expect(requests.map((r) => [r.url, r.headers["metadata-flavor"]]).sort()).toEqual([
      ["/computeMetadata/v1/instance/service-accounts/default/email", "Google"],
      ["/computeMetadata/v1/instance/service-accounts/default/token", "Google"],
    ]);
  });

  it("rejects when the metadata server cannot give a token, so kafkajs retries the authentication", async () => {
    status = 503;
    await expect(oauthBearerFromMetadata()).rejects.toThrow(
      "the metadata server answered 503 for service-accounts/default/",
    );
    status = 200;
  });

  it("builds the same token for the same inputs, and another when the access token changes", () => {
    const a = managedKafkaToken(EMAIL, "t1", 60, 1_000_000);
    expect(managedKafkaToken(EMAIL, "t1", 60, 1_000_000)).toBe(a);
    expect(managedKafkaToken(EMAIL, "t2", 60, 1_000_000)).not.toBe(a);
  });
});

describe("the generator's --kafka-auth option", () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { parseOptions, UsageError } = require("../../generator/options");
  it("is none unless set, takes google (also from GENERATOR_KAFKA_AUTH) and refuses anything else", () => {
    expect(parseOptions([]).kafkaAuth).toBe("none");
    expect(parseOptions(["--kafka-auth", "google"]).kafkaAuth).toBe("google");
    expect(parseOptions([], { GENERATOR_KAFKA_AUTH: "google" }).kafkaAuth).toBe("google");
    expect(() => parseOptions(["--kafka-auth", "plain"])).toThrow(
      new UsageError("--kafka-auth must be none or google or scram, got 'plain'"),
    );
  });
});
