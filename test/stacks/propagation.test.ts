import { propagationWaitProvider } from "../../stacks/propagation";

describe("the wait for IAM propagation", () => {
  it("waits the given time when it is created", async () => {
    const started = Date.now();
    const created = await propagationWaitProvider.create({ seconds: 0.3, grants: ["g1"] });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(created.outs).toEqual({ seconds: 0.3, grants: ["g1"] });
  });

  it("is replaced, so waits again, when a grant is added or replaced", async () => {
    const diff = propagationWaitProvider.diff!;
    expect(await diff("w", { seconds: 420, grants: ["g1"] }, { seconds: 420, grants: ["g1", "g2"] })).toEqual({ changes: true, replaces: ["grants"] });
    expect(await diff("w", { seconds: 420, grants: ["g1"] }, { seconds: 420, grants: ["g1b"] })).toEqual({ changes: true, replaces: ["grants"] });
  });

  it("never waits again while the grants stay the same", async () => {
    const diff = propagationWaitProvider.diff!;
    expect(await diff("w", { seconds: 420, grants: ["g1", "g2"] }, { seconds: 420, grants: ["g1", "g2"] })).toEqual({ changes: false, replaces: [] });
  });
});
