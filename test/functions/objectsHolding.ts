// Cloud Storage as the handler's unit tests see it: each named object at one live generation.
import { ObjectStore } from "../../functions/loader/src/storedObjects";

export function objectsHolding(objects: Record<string, { generation: string; content: string }>): ObjectStore {
  const key = (bucket: string, name: string) => `${bucket}/${name}`;
  return {
    liveGeneration: async (bucket, name) => objects[key(bucket, name)]?.generation,
    read: async (bucket, name, generation) => {
      const o = objects[key(bucket, name)];
      return o?.generation === generation ? Buffer.from(o.content) : undefined;
    },
  };
}
