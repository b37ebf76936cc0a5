import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { folderSha256 } from "../../stacks/artifacts";

// A folder built here: b.txt, B.txt and a/z.txt (code-point order: "B.txt" < "a/z.txt" < "b.txt").
let folder: string;
beforeEach(() => {
  folder = mkdtempSync(path.join(tmpdir(), "archive-"));
  mkdirSync(path.join(folder, "a"));
  writeFileSync(path.join(folder, "b.txt"), "two");
  writeFileSync(path.join(folder, "B.txt"), "three");
  writeFileSync(path.join(folder, "a", "z.txt"), "one");
});
afterEach(() => rmSync(folder, { recursive: true, force: true }));

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

describe("the content hash that names the function archive", () => {
  it("hashes each file's path and content in code-point order of the paths", () => {
    expect(folderSha256(folder)).toBe(sha256("B.txt\0three\0a/z.txt\0one\0b.txt\0two\0"));
  });

  it("changes when one file's content changes", () => {
    const before = folderSha256(folder);
    writeFileSync(path.join(folder, "a", "z.txt"), "one!");
    expect(folderSha256(folder)).not.toBe(before);
    expect(folderSha256(folder)).toBe(sha256("B.txt\0three\0a/z.txt\0one!\0b.txt\0two\0"));
  });

  it("changes when a file moves, though no content changed", () => {
    const before = folderSha256(folder);
    renameSync(path.join(folder, "b.txt"), path.join(folder, "c.txt"));
    expect(folderSha256(folder)).not.toBe(before);
  });

  it("is the same for the same files in another folder", () => {
    const copy = mkdtempSync(path.join(tmpdir(), "archive-copy-"));
    try {
      mkdirSync(path.join(copy, "a"));
      writeFileSync(path.join(copy, "a", "z.txt"), "one");
      writeFileSync(path.join(copy, "B.txt"), "three");
      writeFileSync(path.join(copy, "b.txt"), "two");
      expect(folderSha256(copy)).toBe(folderSha256(folder));
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});
