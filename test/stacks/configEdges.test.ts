// Each key's rule at its edges: the last value it accepts, the first it refuses, and the near misses users type
// (a zone for a region, a trailing hyphen, a value with a unit). config.test.ts holds one refusal per key.
import { parseStackConfig, StackConfigError, vcpusOf } from "../../stacks/config";

const NS = "clickstream-pipeline";
const minimal = { "gcp:project": "my-clickstream-dev" };

function withKey(key: string, value: string, stack?: string) {
  return parseStackConfig({ ...minimal, [key.includes(":") ? key : `${NS}:${key}`]: value }, stack);
}

function refusal(key: string, value: string): string {
  try {
    withKey(key, value);
  } catch (err) {
    expect(err).toBeInstanceOf(StackConfigError);
    expect((err as Error).name).toBe("StackConfigError");
    return (err as Error).message;
  }
  throw new Error(`${key}=${value} was accepted`);
}

const refusedKey = (key: string, value: string) =>
  expect(refusal(key, value)).toMatch(new RegExp(`^Config key '${key.includes(":") ? key : `${NS}:${key}`}' `));

describe("stack configuration at each rule's edges", () => {
  it("trims the values `pulumi config set` stores, and takes a blank one as unset", () => {
    expect(parseStackConfig({ "gcp:project": " my-clickstream-dev " }).project).toBe("my-clickstream-dev");
    expect(() => parseStackConfig({ "gcp:project": "   " })).toThrow(
      "Config key 'gcp:project' is required: set it with `pulumi config set gcp:project <value>`.",
    );
    expect(withKey("kafkaPartitions", "  ").kafkaPartitions).toBe(3);
    expect(withKey("namePrefix", "  ")).toMatchObject({ namePrefix: "clickstream-dev" });
    expect(withKey("bigqueryDataset", "  ").bigqueryDataset).toBe("clickstream_dev");
    expect(withKey("alertEmail", "  ").alertEmail).toBeUndefined();
    expect(withKey("alertEmail", " ops@example.com ").alertEmail).toBe("ops@example.com");
  });

  it("accepts each range's bounds and refuses a number with anything around it", () => {
    expect(withKey("diskSizeGb", "1000").diskSizeGb).toBe(1000);
    refusedKey("diskSizeGb", "1001");
    expect(withKey("streamWorkers", "100").streamWorkers).toBe(100);
    expect(withKey("streamWorkers", "10").streamWorkers).toBe(10);
    for (const value of ["2x", "x2", "101"]) refusedKey("streamWorkers", value);
    expect(withKey("quarantineMaxShare", "1").quarantineMaxShare).toBe(1);
    expect(withKey("quarantineMaxShare", "0").quarantineMaxShare).toBe(0);
    expect(withKey("duplicateMaxShare", ".05").duplicateMaxShare).toBe(0.05);
    for (const value of ["abc", "0.5x", "x0.5", "5%"]) refusedKey("duplicateMaxShare", value);
  });

  it("gives Managed Kafka from 1 to 8 GiB per vCPU, both bounds included", () => {
    expect(withKey("managedKafkaMemoryGib", "3").managedKafkaMemoryGib).toBe(3);
    expect(withKey("managedKafkaMemoryGib", "24").managedKafkaMemoryGib).toBe(24);
    refusedKey("managedKafkaMemoryGib", "2");
  });

  it.each(["10.20.0.0/16", "10.20.0.16/28", "10.20.0.128/25", "10.255.0.0/16", "172.16.0.0/24", "172.31.0.0/24"])(
    "accepts the private range %s",
    (cidr) => {
      expect(withKey("subnetCidr", cidr).subnetCidr).toBe(cidr);
    },
  );

  it.each([
    ["outside RFC 1918", "172.15.0.0/24"],
    ["outside RFC 1918", "172.32.0.0/24"],
    ["outside RFC 1918", "192.169.0.0/24"],
    ["outside RFC 1918", "8.20.0.0/24"],
    ["outside RFC 1918", "8.168.0.0/24"],
    ["an octet over 255", "10.20.300.0/24"],
    ["smaller than /28", "10.20.0.16/29"],
    ["not four octets", "10.20.0/24"],
    ["text before it", "x10.20.0.0/24"],
    ["text after it", "10.20.0.0/24x"],
  ])("refuses a subnet range %s: %s", (_why, cidr) => {
    refusedKey("subnetCidr", cidr);
  });

  it("accepts a private range on 192.168", () => {
    expect(withKey("subnetCidr", "192.168.1.0/24").subnetCidr).toBe("192.168.1.0/24");
  });

  it("takes an email address or nothing for alerts", () => {
    expect(withKey("alertEmail", "ops@mail.example.com").alertEmail).toBe("ops@mail.example.com");
    for (const value of ["ops", "ops@example", "a b@example.com", "ops@example.com x", "@example.com", "ops@.com."]) {
      expect(refusal("alertEmail", value)).toBe(
        `Config key '${NS}:alertEmail' accepts an email address such as ops@example.com, or nothing for no email; got '${value}'.`,
      );
    }
  });

  it("accepts any Airflow version of a Composer 3 image and nothing around it", () => {
    for (const image of ["composer-3-airflow-10.0.1", "composer-3-airflow-2.10.15", "composer-3-airflow-2.10.5"]) {
      expect(withKey("composerImageVersion", image).composerImageVersion).toBe(image);
    }
    for (const image of ["xcomposer-3-airflow-2.10.5", "composer-3-airflow-2.10.5-build.19x"]) {
      refusedKey("composerImageVersion", image);
    }
  });

  it("refuses a zone or a longer name where a region belongs, and a project id that ends badly or runs long", () => {
    for (const region of ["us-central1-a", "my-us-central1"]) refusedKey("gcp:region", region);
    for (const project of ["my-clickstream-dev-", "a-project-id-of-thirty-one-char"])
      refusedKey("gcp:project", project);
  });

  it("derives the name prefix from any stack name, each run of other characters one hyphen", () => {
    expect(parseStackConfig(minimal, "QA__eu").namePrefix).toBe("clickstream-qa-eu");
  });

  it("names the memory a node needs when its machine type is too small", () => {
    expect(refusal("hiveMachineType", "e2-medium")).toBe(
      `Config key '${NS}:hiveMachineType' accepts a machine type whose memory holds what runs on the hive master with 15% to spare (at least 8 GiB, e.g. e2-standard-4); got 'e2-medium'.`,
    );
    expect(refusal("streamMachineType", "e2-standard-2")).toContain("(at least 12 GiB, e.g. e2-standard-4)");
  });

  it("counts the vCPUs of an accepted machine type only", () => {
    expect(vcpusOf("n2-highcpu-8")).toBe(8);
    expect(() => vcpusOf("f1-micro")).toThrow("f1-micro is not a machine type the stack accepts");
  });
});
