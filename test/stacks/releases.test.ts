import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, Server } from "node:http";
import { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import {
  checksumIn,
  KAFKA_RELEASE,
  NODE_RELEASE,
  Release,
  RELEASES,
  SPARK_KAFKA_JARS,
  verifiedRelease,
} from "../../stacks/releases";

// A loopback web server standing in for the CDN, the archive and the checksum hosts: path -> body (404 otherwise).
let server: Server;
let base: string;
const served = new Map<string, Buffer>();
const requested: string[] = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    requested.push(req.url ?? "");
    const body = served.get(req.url ?? "");
    res.writeHead(body ? 200 : 404).end(body ?? "not found");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  served.clear();
  requested.length = 0;
});

const tarball = Buffer.from("kafka release bytes\n");
const sha512 = createHash("sha512").update(tarball).digest("hex");
/** Apache's layout: a CDN, the archive, and the .sha512 on Apache's own servers. */
const release: Release = {
  file: "kafka_2.13-9.9.9.tgz",
  urls: [`http://127.0.0.1:0/cdn/kafka_2.13-9.9.9.tgz`, `/archive/kafka_2.13-9.9.9.tgz`],
  algorithm: "sha512",
  checksumUrls: ["/downloads/kafka_2.13-9.9.9.tgz.sha512", "/archive/kafka_2.13-9.9.9.tgz.sha512"],
};
const at = (r: Release): Release => ({
  ...r,
  urls: r.urls.map((u) => (u.startsWith("/") ? base + u : `${base}/cdn/${r.file}`)),
  checksumUrls: r.checksumUrls.map((u) => base + u),
});
const gpgLayout = (file: string, hex: string) =>
  `${file}: ${hex
    .toUpperCase()
    .match(/.{1,8}/g)!
    .join(" ")}\n`;

describe("third-party releases, fetched and verified on the deployer's machine", () => {
  it("fetches from the CDN first, and from the archive when the CDN no longer has the release", async () => {
    const cache = mkdtempSync(path.join(tmpdir(), "cache-"));
    served.set("/archive/kafka_2.13-9.9.9.tgz", tarball);
    served.set("/archive/kafka_2.13-9.9.9.tgz.sha512", Buffer.from(gpgLayout(release.file, sha512)));
    const file = await verifiedRelease(at(release), fetch, cache);
    expect(readFileSync(file)).toEqual(tarball);
    expect(requested).toEqual([
      "/downloads/kafka_2.13-9.9.9.tgz.sha512",
      "/archive/kafka_2.13-9.9.9.tgz.sha512",
      "/cdn/kafka_2.13-9.9.9.tgz",
      "/archive/kafka_2.13-9.9.9.tgz",
    ]);
  });

  it("takes the CDN's copy when it answers, checked against the checksum from Apache's own server", async () => {
    const cache = mkdtempSync(path.join(tmpdir(), "cache-"));
    served.set("/cdn/kafka_2.13-9.9.9.tgz", tarball);
    served.set("/downloads/kafka_2.13-9.9.9.tgz.sha512", Buffer.from(`${sha512}  ${release.file}\n`));
    await verifiedRelease(at(release), fetch, cache);
    expect(requested).toEqual(["/downloads/kafka_2.13-9.9.9.tgz.sha512", "/cdn/kafka_2.13-9.9.9.tgz"]);
  });

  it("refuses a download whose digest is not the published one, and caches nothing", async () => {
    const cache = mkdtempSync(path.join(tmpdir(), "cache-"));
    served.set("/cdn/kafka_2.13-9.9.9.tgz", Buffer.from("tampered\n"));
    served.set("/downloads/kafka_2.13-9.9.9.tgz.sha512", Buffer.from(gpgLayout(release.file, sha512)));
    await expect(verifiedRelease(at(release), fetch, cache)).rejects.toThrow(
      `${base}/cdn/kafka_2.13-9.9.9.tgz does not match its published sha512 (${base}/downloads/kafka_2.13-9.9.9.tgz.sha512): refusing to stage kafka_2.13-9.9.9.tgz.`,
    );
    expect(existsSync(cache) ? readdirSync(cache) : []).toEqual([]);
  });

  it("stops, naming every address, when no host answers", async () => {
    const cache = mkdtempSync(path.join(tmpdir(), "cache-"));
    await expect(verifiedRelease(at(release), fetch, cache)).rejects.toThrow(
      /None of 2 addresses answered: .*downloads.*HTTP 404; .*archive.*HTTP 404\./,
    );
  });

  it("reuses a verified copy without the network, and fetches again when the copy was altered", async () => {
    const cache = mkdtempSync(path.join(tmpdir(), "cache-"));
    served.set("/cdn/kafka_2.13-9.9.9.tgz", tarball);
    served.set("/downloads/kafka_2.13-9.9.9.tgz.sha512", Buffer.from(gpgLayout(release.file, sha512)));
    const file = await verifiedRelease(at(release), fetch, cache);
    requested.length = 0;
    await verifiedRelease(at(release), fetch, cache);
    expect(requested).toEqual([]);
    writeFileSync(file, "altered on disk\n");
    await verifiedRelease(at(release), fetch, cache);
    expect(requested).toHaveLength(2);
    expect(readFileSync(file)).toEqual(tarball);
  });

  it("reads the digest from each publisher's checksum layout", () => {
    const hex = "ab".repeat(32);
    expect(checksumIn(gpgLayout("k.tgz", "cd".repeat(64)), "k.tgz", "sha512")).toBe("cd".repeat(64));
    // nodejs.org's SHASUMS256.txt lists every platform: only the named file's line counts.
    expect(
      checksumIn(
        `${"0".repeat(64)}  node-v1-darwin-arm64.tar.gz\n${hex}  node-v1-linux-x64.tar.xz\n`,
        "node-v1-linux-x64.tar.xz",
        "sha256",
      ),
    ).toBe(hex);
    expect(
      checksumIn(`${"0".repeat(64)}  node-v1-darwin-arm64.tar.gz\n`, "node-v1-linux-x64.tar.xz", "sha256"),
    ).toBeUndefined();
    // Maven Central's .sha1: the bare digest.
    expect(checksumIn("0123456789abcdef0123456789abcdef01234567", "x.jar", "sha1")).toBe(
      "0123456789abcdef0123456789abcdef01234567",
    );
  });

  it("stages Kafka from Apache's CDN then archive, Node.js from nodejs.org, and the connector from Maven Central", () => {
    expect(KAFKA_RELEASE.urls.map((u) => new URL(u).host)).toEqual(["dlcdn.apache.org", "archive.apache.org"]);
    expect(KAFKA_RELEASE.checksumUrls.map((u) => new URL(u).host)).toEqual([
      "downloads.apache.org",
      "archive.apache.org",
    ]);
    expect(NODE_RELEASE.checksumUrls).toEqual([
      expect.stringMatching(/^https:\/\/nodejs\.org\/dist\/v22\.\d+\.\d+\/SHASUMS256\.txt$/),
    ]);
    for (const jar of SPARK_KAFKA_JARS)
      expect(jar.urls[0]).toMatch(/^https:\/\/repo\.maven\.apache\.org\/maven2\/.+\.jar$/);
    expect(
      RELEASES.every(
        (r) => r.urls.every((u) => u.startsWith("https://")) && r.checksumUrls.every((u) => u.startsWith("https://")),
      ),
    ).toBe(true);
  });

  it("stages exactly the connector jars the sandbox's Maven resolution gives the local Spark", () => {
    const setup = readFileSync(path.join(__dirname, "..", "..", "scripts", "setup.d", "40-spark-jars.sh"), "utf8");
    const wanted = /wanted="([^"]+)"/.exec(setup)![1].split(",").sort();
    expect(SPARK_KAFKA_JARS.map((j) => j.file.replace(/-\d[\d.]*\.jar$/, "")).sort()).toEqual(wanted);
  });
});
