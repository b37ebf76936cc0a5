// Builds the deployable bundles with their owners' npm scripts and uploads every artifact to the artifacts bucket.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { Dirent, existsSync, readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { digestOf, Release, releaseObject, RELEASES, verifiedRelease } from "./releases";

export const REPO_ROOT = path.resolve(__dirname, "..");

/** A file of the repository the stack deploys, with the command that (re)builds it when it is a bundle. */
export interface ArtifactSource {
  /** Path relative to the repository root. */
  file: string;
  /** npm script producing `file`; run on every deploy so a stale build can never be uploaded. */
  buildScript?: string;
}

export const GENERATOR_BUNDLE: ArtifactSource = { file: "dist/generator.cjs", buildScript: "build:generator" };
/** A folder (index.js, package.json, package-lock.json) that Cloud Build installs and runs. */
export const LOADER_SOURCE: ArtifactSource = { file: "dist/loader", buildScript: "build:loader" };
/** The streaming job's entry; it imports the rest of the `jobs` package. */
export const STREAMING_JOB_MAIN: ArtifactSource = { file: "jobs/weblog_stream.py" };
export const JOBS_PACKAGE_DIR = "jobs";
/** The contract's rules compiled for the JVM (jobs/judge), on the streaming job's classpath. */
export const JUDGE_JAR: ArtifactSource = { file: "build/weblog-judge.jar", buildScript: "build:judge" };
/** The event contract the streaming job validates entries against (read at start through `--contract`). */
export const CONTRACT_FILE: ArtifactSource = { file: "contract/weblog-entry.schema.json" };
export const INIT_ACTIONS_DIR = "stacks/init";
export const HIVEQL_DIR = "jobs";
export const DAGS_DIR = "dags";

const built = new Set<string>();

/** Runs an npm build script once per program run; a failure stops the deployment with the script's name. */
export function runBuildScript(script: string): void {
  if (built.has(script)) return;
  try {
    execFileSync("npm", ["run", "--silent", script], { cwd: REPO_ROOT, stdio: ["ignore", "ignore", "pipe"] });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim() ?? "";
    throw new Error(
      `Building an artifact failed: \`npm run ${script}\` exited non-zero${stderr ? `: ${stderr.split("\n").slice(-3).join(" ")}` : ""}.`,
      { cause: err },
    );
  }
  built.add(script);
}

/** The absolute path of an artifact, built first if it is a bundle; a missing file is an error, never a placeholder. */
export function artifactPath(source: ArtifactSource): string {
  if (source.buildScript) runBuildScript(source.buildScript);
  const absolute = path.join(REPO_ROOT, source.file);
  if (!existsSync(absolute)) {
    const how = source.buildScript
      ? `\`npm run ${source.buildScript}\` did not produce it`
      : "it is part of the repository";
    throw new Error(`The artifact ${source.file} is missing, and ${how}.`);
  }
  return absolute;
}

/** Hex SHA-256 of a file: names content-addressed objects and labels resources that must follow the content. */
export function fileSha256(absolute: string): string {
  return createHash("sha256").update(readFileSync(absolute)).digest("hex");
}

/**
 * Hex SHA-256 over a folder's files: for each file, in code-point order of its '/'-separated relative path,
 * the path, a NUL, the content, a NUL. Code-point order, not locale order, so every machine names it alike.
 */
export function folderSha256(absolute: string): string {
  const files = (readdirSync(absolute, { recursive: true, withFileTypes: true }) as Dirent[])
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(absolute, path.join(entry.parentPath, entry.name)).split(path.sep).join("/"))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const hash = createHash("sha256");
  for (const file of files)
    hash
      .update(file)
      .update("\0")
      .update(readFileSync(path.join(absolute, file)))
      .update("\0");
  return hash.digest("hex");
}

/** Files of a repository folder with one of the given extensions, sorted, as paths relative to the repository. */
export function filesIn(dir: string, extensions: string[]): string[] {
  const absolute = path.join(REPO_ROOT, dir);
  if (!existsSync(absolute)) throw new Error(`The artifact folder ${dir} is missing from the repository.`);
  return readdirSync(absolute)
    .filter((f) => extensions.some((ext) => f.endsWith(ext)) && !f.startsWith("."))
    .sort()
    .map((f) => path.join(dir, f));
}

/** A Pulumi resource-name fragment for a repository file: its base name, lowercase, runs of other characters as '-'. */
export function resourceIdOf(file: string): string {
  return path
    .basename(file)
    .replace(/[^A-Za-z0-9]+/g, "-")
    .toLowerCase();
}

/** Uploads one file; the asset's content hash makes `pulumi up` re-upload it whenever the file changes. */
export function uploadFile(
  resourceName: string,
  bucket: pulumi.Input<string>,
  objectName: string,
  absolute: string,
  opts: pulumi.CustomResourceOptions,
): gcp.storage.BucketObject {
  return new gcp.storage.BucketObject(
    resourceName,
    {
      bucket,
      name: objectName,
      source: new pulumi.asset.FileAsset(absolute),
      contentType: contentTypeOf(absolute),
    },
    opts,
  );
}

function contentTypeOf(file: string): string {
  if (file.endsWith(".zip")) return "application/zip";
  if (file.endsWith(".jar")) return "application/java-archive";
  if (file.endsWith(".py")) return "text/x-python";
  if (file.endsWith(".sh")) return "text/x-shellscript";
  if (file.endsWith(".cjs") || file.endsWith(".js")) return "application/javascript";
  return "text/plain";
}

export interface UploadedArtifacts {
  initActions: Record<string, gcp.storage.BucketObject>;
  generatorBundle: gcp.storage.BucketObject;
  streamingJob: gcp.storage.BucketObject;
  /** The `jobs` Python package as a zip, put on the driver's and executors' PYTHONPATH. */
  jobsPackage: gcp.storage.BucketObject;
  contract: gcp.storage.BucketObject;
  /** The compiled contract judge (jobs/judge), passed to the streaming job as a jar. */
  judgeJar: gcp.storage.BucketObject;
  /** Hash over everything the streaming job runs: its entry, its package, its judge and the contract. */
  streamingJobSha256: string;
  loaderArchive: gcp.storage.BucketObject;
  /** Third-party releases (stacks/releases.ts), by file name, each with the SHA-256 of what was staged. */
  releases: Record<string, StagedRelease>;
}

export interface StagedRelease {
  object: gcp.storage.BucketObject;
  sha256: pulumi.Output<string>;
}

/** `gs://` URI of an uploaded object. */
export function gsUri(object: gcp.storage.BucketObject): pulumi.Output<string> {
  return pulumi.interpolate`gs://${object.bucket}/${object.name}`;
}

export class Artifacts extends pulumi.ComponentResource {
  readonly uploaded: UploadedArtifacts;

  constructor(name: string, args: { bucket: gcp.storage.Bucket }, opts?: pulumi.ComponentResourceOptions) {
    super("clickstream:stack:Artifacts", name, {}, opts);
    const child = { parent: this };
    const bucket = args.bucket.name;
    const upload = (id: string, objectName: string, absolute: string) =>
      uploadFile(`${name}-${id}`, bucket, objectName, absolute, child);

    const initActions: Record<string, gcp.storage.BucketObject> = {};
    for (const file of filesIn(INIT_ACTIONS_DIR, [".sh"])) {
      initActions[path.basename(file)] = upload(
        `init-${resourceIdOf(file)}`,
        `init/${path.basename(file)}`,
        path.join(REPO_ROOT, file),
      );
    }

    // Fixed name: the master's generator service polls this object's generation and restarts on a new one.
    const generatorBundle = upload("generator-bundle", "generator/generator.cjs", artifactPath(GENERATOR_BUNDLE));

    const streamingJob = upload(
      "streaming-job",
      `spark/${path.basename(STREAMING_JOB_MAIN.file)}`,
      artifactPath(STREAMING_JOB_MAIN),
    );
    const contract = upload("contract", `spark/${path.basename(CONTRACT_FILE.file)}`, artifactPath(CONTRACT_FILE));
    const packageFiles = filesIn(JOBS_PACKAGE_DIR, [".py"]);
    const jobsPackage = new gcp.storage.BucketObject(
      `${name}-jobs-package`,
      {
        bucket,
        name: "spark/jobs.zip",
        // Entries named jobs/<file> so `from jobs.x import y` resolves inside the zip.
        source: new pulumi.asset.AssetArchive(
          Object.fromEntries(
            packageFiles.map((file) => [file, new pulumi.asset.FileAsset(path.join(REPO_ROOT, file))]),
          ),
        ),
        contentType: "application/zip",
      },
      child,
    );
    const judgeJar = upload("judge-jar", "spark/weblog-judge.jar", artifactPath(JUDGE_JAR));
    const streamingJobSha256 = createHash("sha256")
      .update(
        [STREAMING_JOB_MAIN.file, CONTRACT_FILE.file, ...packageFiles, JUDGE_JAR.file]
          .map((f) => `${f}:${fileSha256(path.join(REPO_ROOT, f))}`)
          .join("\n"),
      )
      .digest("hex");

    // Content-addressed: a new archive is a new object name, which is what makes Cloud Functions rebuild.
    const loaderPath = artifactPath(LOADER_SOURCE);
    const loaderArchive = new gcp.storage.BucketObject(
      `${name}-loader-archive`,
      {
        bucket,
        name: `functions/loader-${folderSha256(loaderPath).slice(0, 16)}.zip`,
        source: new pulumi.asset.FileArchive(loaderPath),
        contentType: "application/zip",
      },
      child,
    );

    // Fetched and verified on this machine before upload; nodes read them from the bucket, never from the internet.
    const stage = (release: Release): StagedRelease => {
      const local = verifiedRelease(release);
      const object = new gcp.storage.BucketObject(
        `${name}-release-${resourceIdOf(release.file)}`,
        {
          bucket,
          name: releaseObject(release),
          source: local.then((file) => new pulumi.asset.FileAsset(file)),
          contentType: "application/octet-stream",
        },
        child,
      );
      return { object, sha256: pulumi.output(local.then((file) => digestOf(readFileSync(file), "sha256"))) };
    };
    const releases = Object.fromEntries(RELEASES.map((r) => [r.file, stage(r)]));

    this.uploaded = {
      releases,
      initActions,
      generatorBundle,
      streamingJob,
      jobsPackage,
      judgeJar,
      contract,
      streamingJobSha256,
      loaderArchive,
    };
    // Where the deployable artifacts are: the streaming job (and the digest that restarts it), the loader's archive.
    this.registerOutputs({
      streamingJob: gsUri(streamingJob),
      streamingJobSha256,
      jobsPackage: gsUri(jobsPackage),
      judgeJar: gsUri(judgeJar),
      generatorBundle: gsUri(generatorBundle),
      loaderArchive: gsUri(loaderArchive),
    });
  }
}
