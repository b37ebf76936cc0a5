// Builds the loader's deployable source archive folder, dist/loader: the function bundled into one
// index.js, plus the package.json and lock that Cloud Functions' Node.js build installs.
// The Functions Framework stays external: the platform's framework must be the one the function
// registers itself with.
import { build } from "esbuild";
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";

const here = __dirname;
export const DEFAULT_LOADER_ARCHIVE_DIR = join(here, "..", "..", "dist", "loader");

/** Writes index.js, package.json and package-lock.json into outDir (emptied first); returns outDir. */
export async function buildLoaderArchive(outDir = DEFAULT_LOADER_ARCHIVE_DIR): Promise<string> {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: [join(here, "src", "index.ts")],
    outfile: join(outDir, "index.js"),
    bundle: true,
    platform: "node",
    // Runs on the cloud's nodejs22 and the local Node 20: emit for the older.
    target: "node20",
    format: "cjs",
    external: ["@google-cloud/functions-framework"],
    legalComments: "none",
    logLevel: "warning",
  });
  for (const file of ["package.json", "package-lock.json"]) {
    copyFileSync(join(here, "deploy", file), join(outDir, file));
  }
  return outDir;
}

if (require.main === module) {
  buildLoaderArchive(process.argv[2])
    .then((dir) => process.stdout.write(`${dir}\n`))
    .catch((err: unknown) => {
      process.stderr.write(`error: building the loader failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    });
}
