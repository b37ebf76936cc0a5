// Serves the loader's deployable archive with the Functions Framework's own server, as the platform does,
// but on the loopback interface only (the framework's command line has no host option and listens on every
// interface), and answering a body it cannot parse with one sentence instead of a stack trace.
//   tsx functions/loader/local/serve.ts --source DIR --port N
import { getTestServer } from "@google-cloud/functions-framework/testing";
import type { Express, NextFunction, Request, Response } from "express";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { LOADER_ENTRY_POINT } from "../src/hourlyLoader";

export const LOOPBACK = "127.0.0.1";

/** The answer to a request the framework failed on before the function ran: never the error's text. */
export function plainError(
  err: { type?: string; status?: number },
  _req: Request,
  res: Response,
  _next: NextFunction,
): void {
  const [status, sentence] =
    err.type === "entity.parse.failed"
      ? [400, "The request body is not valid JSON."]
      : err.status !== undefined && err.status >= 400 && err.status < 500
        ? [err.status, "The request cannot be handled."]
        : [500, "The request could not be handled."];
  res.status(status).type("text/plain").send(`${sentence}\n`);
}

function main(): void {
  const { values } = parseArgs({ options: { source: { type: "string" }, port: { type: "string" } } });
  if (!values.source || !values.port || !/^\d+$/.test(values.port)) {
    throw new Error("serve needs --source DIR (the loader's archive) and --port N");
  }
  // Registers the function with the framework (the archive's index.js calls functions.cloudEvent); a
  // CommonJS bundle, loaded as the framework's own loader does.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require(resolve(values.source, "index.js"));
  const server = getTestServer(LOADER_ENTRY_POINT);
  // The framework's Express app: an error handler added last receives its body parser's errors.
  const app = server.listeners("request")[0] as Express;
  app.use(plainError);
  server.listen(Number(values.port), LOOPBACK, () => {
    process.stdout.write(
      `Serving function...\nFunction: ${LOADER_ENTRY_POINT}\nURL: http://${LOOPBACK}:${values.port}/\n`,
    );
  });
  const stop = () => server.close(() => process.exit(0));
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

main();
