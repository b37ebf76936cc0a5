// Where the loader reads a published object's live generation and content: Cloud Storage in the cloud,
// a folder (one subfolder per bucket) in the sandbox and the tests.
import { Storage } from "@google-cloud/storage";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";

export interface ObjectStore {
  /** The object's live generation (decimal digits), or undefined when no such object exists. */
  liveGeneration(bucket: string, name: string): Promise<string | undefined>;
  /** The content of exactly that generation, or undefined when it is not (or no longer) stored. */
  read(bucket: string, name: string, generation: string): Promise<Buffer | undefined>;
}

const notFound = (err: unknown): boolean => (err as { code?: unknown }).code === 404;

export function cloudStorageObjects(storage = new Storage()): ObjectStore {
  return {
    async liveGeneration(bucket, name) {
      try {
        const [metadata] = await storage.bucket(bucket).file(name).getMetadata();
        return metadata.generation === undefined ? undefined : String(metadata.generation);
      } catch (err) {
        if (notFound(err)) return undefined;
        throw err;
      }
    },
    async read(bucket, name, generation) {
      try {
        const [content] = await storage.bucket(bucket).file(name, { generation }).download();
        return content;
      } catch (err) {
        if (notFound(err)) return undefined;
        throw err;
      }
    },
  };
}

/**
 * A folder's stand-in for an object's generation: its modification time in microseconds (GCS generations
 * are microsecond timestamps of the write). A rewrite of the file is a new generation.
 */
export function folderGeneration(path: string): string | undefined {
  try {
    return String(Math.floor(statSync(path).mtimeMs * 1000));
  } catch {
    return undefined;
  }
}

export function folderObjects(root: string): ObjectStore {
  const pathOf = (bucket: string, name: string) => join(root, bucket, name);
  return {
    async liveGeneration(bucket, name) {
      return folderGeneration(pathOf(bucket, name));
    },
    async read(bucket, name, generation) {
      const path = pathOf(bucket, name);
      if (folderGeneration(path) !== generation) return undefined;
      let content: Buffer;
      try {
        content = readFileSync(path);
      } catch {
        return undefined;
      }
      // Rewritten while being read: not the generation asked for.
      return folderGeneration(path) === generation ? content : undefined;
    },
  };
}
