// Entry point of `npm run generator`, the package bin and the single-file bundle (dist/generator.cjs).
import { runCli } from "./cli";

runCli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
