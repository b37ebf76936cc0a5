// The stack's settings as Pulumi.yaml declares them (type, default, description): the one place a key is added.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { load } from "js-yaml";

export interface DeclaredSetting {
  type: "string" | "integer" | "boolean";
  /** The default as the program receives it: a string, "" for "worked out from other keys" or "none". */
  default: string;
  description: string;
}

export const PROJECT_FILE = path.join(__dirname, "..", "Pulumi.yaml");

/** Project keys by name, and the other namespaces' keys (gcp:region) with the value Pulumi.yaml gives them. */
export function declaredSettings(file = PROJECT_FILE): {
  project: Record<string, DeclaredSetting>;
  providers: Record<string, string>;
} {
  const config = (load(readFileSync(file, "utf8")) as { config?: Record<string, unknown> }).config ?? {};
  const project: Record<string, DeclaredSetting> = {};
  const providers: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    if (key.includes(":")) {
      providers[key] = String(
        typeof value === "object" && value !== null ? (value as { value: unknown }).value : value,
      );
      continue;
    }
    const declared = value as { type?: string; default?: unknown; description?: string };
    if (!declared.type || declared.default === undefined || !declared.description) {
      throw new Error(`Pulumi.yaml: the setting ${key} needs a type, a default and a description.`);
    }
    project[key] = {
      type: declared.type as DeclaredSetting["type"],
      default: String(declared.default),
      description: declared.description,
    };
  }
  return { project, providers };
}

/** The README's settings table, rendered from the declarations. */
export function settingsTable(declared = declaredSettings()): string {
  const cell = (text: string) => text.replace(/\|/g, "\\|");
  const rows = Object.entries(declared.project).map(
    ([key, s]) =>
      `| \`${key}\` | ${s.type} | ${s.default === "" ? "(see description)" : `\`${cell(s.default)}\``} | ${cell(s.description)} |`,
  );
  const providerRows = Object.entries(declared.providers).map(
    ([key, value]) => `| \`${key}\` | string | \`${value}\` | Google Cloud's provider setting. |`,
  );
  return ["| key | type | default | description |", "| --- | --- | --- | --- |", ...providerRows, ...rows].join("\n");
}

// `npx tsx stacks/settings.ts` prints the table for the README.
if (require.main === module) console.log(settingsTable());
