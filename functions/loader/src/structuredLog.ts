// Cloud Logging reads one JSON object per stdout line; `severity` and `message` are its own fields.

export type Severity = "INFO" | "WARNING" | "ERROR";
export type LogFields = Record<string, string | number | boolean | undefined>;
export type LoaderLog = (severity: Severity, message: string, fields: LogFields) => void;

export const structuredLog: LoaderLog = (severity, message, fields) => {
  process.stdout.write(`${JSON.stringify({ severity, message, ...fields })}\n`);
};
