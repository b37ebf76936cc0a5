import { monitoringPolicies } from "../../policy/monitoringPolicies";
import { violations } from "./violations";

const ALERT_POLICY = "gcp:monitoring/alertPolicy:AlertPolicy";

/** The violations the documentation rule reports for one resource, as the policy engine would hand it over. */
const documentationViolations = (type: string, props: Record<string, unknown>) =>
  violations(
    monitoringPolicies.find((p) => p.name === "alerts-carry-documentation")!,
    type,
    props,
  );

const conditions = [{ displayName: "c", conditionAbsent: { filter: 'metric.type="x"', duration: "300s" } }];

describe("the alerts-carry-documentation policy", () => {
  it("is mandatory", () => {
    expect(monitoringPolicies.map((p) => [p.name, p.enforcementLevel])).toEqual([
      ["alerts-carry-documentation", "mandatory"],
    ]);
  });

  it("passes an alert policy whose documentation says what to check first", () => {
    expect(
      documentationViolations(ALERT_POLICY, {
        conditions,
        documentation: { mimeType: "text/markdown", content: "Check first: the DAG." },
      }),
    ).toEqual([]);
  });

  it.each([
    ["no documentation", {}],
    ["documentation without content", { documentation: { mimeType: "text/markdown" } }],
    ["blank content", { documentation: { content: "  \n" } }],
    ["content that is not text", { documentation: { content: 42 } }],
  ])("refuses an alert policy with %s", (_, props) => {
    expect(documentationViolations(ALERT_POLICY, { conditions, ...props })).toEqual([
      "An alert policy must set documentation.content: what the alert means and what to check first.",
    ]);
  });

  it("refuses documentation longer than Google accepts (8,192 characters)", () => {
    expect(
      documentationViolations(ALERT_POLICY, { conditions, documentation: { content: "x".repeat(8193) } }),
    ).toHaveLength(1);
    expect(documentationViolations(ALERT_POLICY, { conditions, documentation: { content: "x".repeat(8192) } })).toEqual(
      [],
    );
  });

  it("refuses documentation within the character limit but over Google's 10,240 bytes, and accepts it at the limit", () => {
    // "é" is one character and two bytes: 5,121 of them are 10,242 bytes in 5,121 characters.
    expect(documentationViolations(ALERT_POLICY, { conditions, documentation: { content: "é".repeat(5121) } })).toEqual(
      ["An alert policy's documentation.content must stay within 8192 characters and 10240 bytes."],
    );
    expect(documentationViolations(ALERT_POLICY, { conditions, documentation: { content: "é".repeat(5120) } })).toEqual(
      [],
    );
  });

  it("leaves other resource types alone", () => {
    expect(documentationViolations("gcp:monitoring/dashboard:Dashboard", { dashboardJson: "{}" })).toEqual([]);
  });
});
