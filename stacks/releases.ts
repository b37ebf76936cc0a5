// Third-party releases the nodes run (Kafka, Node.js, Spark's Kafka connector), fetched once by `pulumi up` on the
// deployer's machine, verified against the checksum their publisher publishes, and staged in the artifacts bucket:
// no node downloads anything outside Google at boot or when a job starts.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import * as path from "node:path";

export const KAFKA_VERSION = "3.9.2";
/** The Node.js release the generator runs on (the 22 LTS line; the cloud's function runtime is nodejs22 too). */
export const NODE_VERSION = "22.23.3";
/** Spark 3.5.x / Scala 2.12, Dataproc 2.2's Spark; the same version the sandbox's pyspark runs. */
export const SPARK_KAFKA_VERSION = "3.5.3";

export type ChecksumAlgorithm = "sha1" | "sha256" | "sha512";

export interface Release {
  /** The file's name, in the cache and under `releases/` in the artifacts bucket. */
  file: string;
  /** Where it is fetched from, in order: a mirror or CDN first, the publisher's archive as fallback. */
  urls: string[];
  algorithm: ChecksumAlgorithm;
  /** Where the publisher publishes the checksum, in order; each is read by `checksumIn`. */
  checksumUrls: string[];
}

const apache = (dir: string, file: string): Pick<Release, "urls" | "checksumUrls"> => ({
  // dlcdn serves the current releases; archive.apache.org keeps every release but throttles heavy use.
  urls: [`https://dlcdn.apache.org/${dir}/${file}`, `https://archive.apache.org/dist/${dir}/${file}`],
  // Apache asks that checksums come from its own servers, never from a mirror.
  checksumUrls: [
    `https://downloads.apache.org/${dir}/${file}.sha512`,
    `https://archive.apache.org/dist/${dir}/${file}.sha512`,
  ],
});

const maven = (group: string, artifact: string, version: string): Release => {
  const file = `${artifact}-${version}.jar`;
  const at = (repo: string) => `${repo}/${group.replace(/\./g, "/")}/${artifact}/${version}/${file}`;
  const repos = ["https://repo.maven.apache.org/maven2", "https://repo1.maven.org/maven2"];
  // Maven Central publishes a .sha1 beside every artifact (sha256/sha512 only for some).
  return { file, urls: repos.map(at), algorithm: "sha1", checksumUrls: repos.map((r) => `${at(r)}.sha1`) };
};

export const KAFKA_RELEASE: Release = {
  file: `kafka_2.13-${KAFKA_VERSION}.tgz`,
  algorithm: "sha512",
  ...apache(`kafka/${KAFKA_VERSION}`, `kafka_2.13-${KAFKA_VERSION}.tgz`),
};

export const NODE_RELEASE: Release = {
  file: `node-v${NODE_VERSION}-linux-x64.tar.xz`,
  urls: [`https://nodejs.org/dist/v${NODE_VERSION}/node-v${NODE_VERSION}-linux-x64.tar.xz`],
  algorithm: "sha256",
  checksumUrls: [`https://nodejs.org/dist/v${NODE_VERSION}/SHASUMS256.txt`],
};

/** Spark's Kafka source and what it needs beyond Dataproc's Spark (Hadoop, slf4j and the codecs are there). */
export const SPARK_KAFKA_JARS: Release[] = [
  maven("org.apache.spark", "spark-sql-kafka-0-10_2.12", SPARK_KAFKA_VERSION),
  maven("org.apache.spark", "spark-token-provider-kafka-0-10_2.12", SPARK_KAFKA_VERSION),
  maven("org.apache.kafka", "kafka-clients", "3.4.1"),
  maven("org.apache.commons", "commons-pool2", "2.11.1"),
];

export const RELEASES: Release[] = [KAFKA_RELEASE, NODE_RELEASE, ...SPARK_KAFKA_JARS];

/** Where the artifacts bucket holds a release. */
export const releaseObject = (release: Release) => `releases/${release.file}`;

/**
 * The hex digest for `file` in a published checksum file: a bare digest, `digest  file` lines (sha1sum, SHASUMS256.txt),
 * or gpg's `file: HEX HEX ...` layout Apache uses. Undefined when the file is not listed.
 */
export function checksumIn(published: string, file: string, algorithm: ChecksumAlgorithm): string | undefined {
  const length = { sha1: 40, sha256: 64, sha512: 128 }[algorithm];
  const gpg = new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:\\s*([0-9A-Fa-f\\s]+)$`, "m").exec(published);
  if (gpg) return gpg[1].replace(/\s+/g, "").toLowerCase();
  for (const line of published
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)) {
    const [digest, name] = line.split(/\s+\*?/);
    if (name === undefined || name === file || name.endsWith(`/${file}`)) {
      if (new RegExp(`^[0-9a-fA-F]{${length}}$`).test(digest)) return digest.toLowerCase();
    }
  }
  return undefined;
}

export const digestOf = (bytes: Buffer, algorithm: ChecksumAlgorithm) =>
  createHash(algorithm).update(bytes).digest("hex");

/** The deployer's download cache (the same one scripts/setup.sh uses). */
export function releaseCache(): string {
  return path.join(process.env.CLICKSTREAM_CACHE ?? path.join(homedir(), ".cache", "clickstream-pipeline"), "releases");
}

type Fetch = (url: string) => Promise<{ ok: boolean; status: number; arrayBuffer(): Promise<ArrayBuffer> }>;

async function firstThatAnswers(urls: string[], fetchUrl: Fetch): Promise<{ url: string; body: Buffer }> {
  const failures: string[] = [];
  for (const url of urls) {
    try {
      const response = await fetchUrl(url);
      if (response.ok) return { url, body: Buffer.from(await response.arrayBuffer()) };
      failures.push(`${url}: HTTP ${response.status}`);
    } catch (err) {
      failures.push(`${url}: ${(err as Error).message}`);
    }
  }
  throw new Error(`None of ${urls.length} addresses answered: ${failures.join("; ")}.`);
}

/**
 * The release's path in the cache, fetched first if the cache does not hold a copy matching the digest recorded when
 * it was verified. A download whose digest differs from the published one is refused, and nothing is cached.
 */
export async function verifiedRelease(
  release: Release,
  fetchUrl: Fetch = fetch,
  cache = releaseCache(),
): Promise<string> {
  const file = path.join(cache, release.file);
  const recorded = `${file}.${release.algorithm}`;
  if (
    existsSync(file) &&
    existsSync(recorded) &&
    digestOf(readFileSync(file), release.algorithm) === readFileSync(recorded, "utf8").trim()
  ) {
    return file;
  }
  const published = await firstThatAnswers(release.checksumUrls, fetchUrl);
  const expected = checksumIn(published.body.toString("utf8"), release.file, release.algorithm);
  if (!expected) throw new Error(`${published.url} lists no ${release.algorithm} for ${release.file}.`);
  const download = await firstThatAnswers(release.urls, fetchUrl);
  const actual = digestOf(download.body, release.algorithm);
  if (actual !== expected) {
    throw new Error(
      `${download.url} does not match its published ${release.algorithm} (${published.url}): refusing to stage ${release.file}.`,
    );
  }
  mkdirSync(cache, { recursive: true });
  // Written aside and renamed: an interrupted fetch never leaves a partial file under the release's name.
  writeFileSync(`${file}.partial`, download.body);
  renameSync(`${file}.partial`, file);
  writeFileSync(recorded, `${expected}\n`);
  return file;
}
