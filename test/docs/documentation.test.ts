// The README is what a newcomer reads first: a quickstart short enough for five minutes, and links into
// docs/ that all lead somewhere.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";

const REPO = path.resolve(__dirname, "..", "..");
const QUICKSTART_END = "<!-- quickstart:end -->";

/** The README's quickstart: everything from its first line to the marker that ends it. */
function quickstart(readme: string): string[] {
  const end = readme.indexOf(QUICKSTART_END);
  if (end < 0) throw new Error(`README.md has no ${QUICKSTART_END} marker`);
  return readme.slice(0, end).split("\n");
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces made hyphens. */
function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/** The anchors a Markdown page offers: one per heading outside code blocks. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  let inCode = false;
  for (const line of markdown.split("\n")) {
    if (line.startsWith("```")) inCode = !inCode;
    const heading = /^#{1,6} (.*)$/.exec(line);
    if (!inCode && heading) anchors.add(anchorOf(heading[1]));
  }
  return anchors;
}

/** Every relative link of a page ([text](target)), as the file it names and the anchor, if any. */
function relativeLinks(markdown: string): { target: string; file: string; anchor?: string }[] {
  return [...markdown.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1])
    .filter((target) => !/^[a-z]+:/.test(target))
    .map((target) => {
      const [file, anchor] = target.split("#");
      return { target, file, anchor };
    });
}

const pages = [
  "README.md",
  ...readdirSync(path.join(REPO, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];

describe("the README a newcomer reads", () => {
  const readme = readFileSync(path.join(REPO, "README.md"), "utf8");

  it("has a quickstart of under 100 lines, ending at its marker", () => {
    expect(quickstart(readme).length).toBeLessThan(100);
  });

  it("shows the two commands first: run the sandbox, run the whole test suite", () => {
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)![1].split("\n").filter(Boolean);
    expect(firstBlock.map((line) => line.split("#")[0].trim())).toEqual(["npm start", "npm test"]);
  });

  it("gives the quickstart's three paths: try it, your own logs, deploy", () => {
    const headings = quickstart(readme).filter((line) => line.startsWith("### "));
    expect(headings).toEqual([
      "### Try it: `npm start`",
      "### Your own logs: `up`, then `ship` (or Vector, Fluent Bit)",
      "### Deploy: `pulumi up`, `pulumi destroy`",
    ]);
    const text = quickstart(readme).join("\n");
    for (const command of ["npm start -- up", "npm start -- ship", "pulumi up", "pulumi destroy"])
      expect(text).toContain(command);
  });

  it("links every page of docs/", () => {
    const linked = new Set(relativeLinks(readme).map((l) => l.file));
    for (const page of pages.filter((p) => p !== "README.md")) expect(linked).toContain(page);
  });

  it.each(pages)("%s: every relative link names a file that exists, and a heading it has", (page) => {
    const links = relativeLinks(readFileSync(path.join(REPO, page), "utf8"));
    for (const { target, file, anchor } of links) {
      const resolved = file === "" ? path.join(REPO, page) : path.resolve(path.dirname(path.join(REPO, page)), file);
      expect([target, existsSync(resolved)]).toEqual([target, true]);
      if (anchor !== undefined)
        expect([target, anchorsOf(readFileSync(resolved, "utf8")).has(anchor)]).toEqual([target, true]);
    }
  });

  it("makes a heading's anchor as GitHub does", () => {
    expect(anchorOf("Your own logs: `ship`, `query`, `status --json`")).toBe("your-own-logs-ship-query-status---json");
    expect(anchorOf("Settings")).toBe("settings");
  });
});
