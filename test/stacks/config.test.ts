import { ACCESS_LOG_DEFAULTS } from "../../contract/accessLogSettings";
import { CONFIG_KEYS, KEYS_READ, parseStackConfig, StackConfigError } from "../../stacks/config";
import { MACHINE_TYPES_ACCEPTED } from "../../stacks/machineTypes";
import { declaredSettings } from "../../stacks/settings";
import { byName, runProgram, stackFileConfig } from "./pulumiProgram";

const NS = "clickstream-pipeline";
const minimal = { "gcp:project": "my-clickstream-dev" };
const MACHINE_TYPES = MACHINE_TYPES_ACCEPTED;
const COMPOSER_IMAGES = "a Composer 3 image, composer-3-airflow-X.Y.Z or composer-3-airflow-X.Y.Z-build.N";

describe("stack configuration", () => {
  it("gives every optional key a default suited to a free-trial project", () => {
    const config = parseStackConfig(minimal);
    expect(config).toEqual({
      project: "my-clickstream-dev",
      region: "us-central1",
      // Derived from the stack (dev here), so dev and prod stacks share a project.
      namePrefix: "clickstream-dev",
      subnetCidr: "10.20.0.0/24",
      allowIapSsh: false,
      streamMachineType: "e2-standard-4",
      hiveMachineType: "e2-standard-2",
      diskSizeGb: 50,
      kafkaTopic: "weblogs",
      kafkaPartitions: 3,
      kafka: "dataproc",
      managedKafkaVcpus: 3,
      managedKafkaMemoryGib: 12,
      streamWorkers: 0,
      streamWorkerMachineType: "e2-standard-4",
      hiveMaxWorkers: 0,
      demoTraffic: true,
      generatorRate: 5,
      rawRetentionDays: 30,
      forceDestroy: false,
      bigqueryDataset: "clickstream_dev",
      composerImageVersion: "composer-3-airflow-2.10.5-build.19",
      quarantineMaxShare: 0.05,
      maxEventAgeDays: 62,
      duplicateMaxShare: 0.5,
      freshnessMinutes: 90,
      inputFormat: "json",
      accessLog: {
        productUrlPattern: "^/products/(?<product_id>[^/?#]+)/?(?:[?#].*)?$",
        cartMethod: "POST",
        cartUrlPattern: "^/cart/items/(?<product_id>[^/?#]+)/?(?:[?#].*)?$",
        countedStatuses: "200-399",
      },
    });
    // 4 + 2 vCPUs fit the free trial's limit of 8 running vCPUs.
    const vcpus = (t: string) => Number(t.split("-").pop());
    expect(vcpus(config.streamMachineType) + vcpus(config.hiveMachineType)).toBeLessThanOrEqual(8);
  });

  it.each([
    "e2-standard-32",
    "e2-highcpu-32",
    "e2-highmem-2",
    "n1-standard-4",
    "n2-highmem-128",
    "n2d-standard-224",
    "c3-standard-22",
    "t2d-standard-60",
  ])("accepts %s, a machine type Google offers in its family", (type) => {
    expect(parseStackConfig({ ...minimal, [`${NS}:hiveMachineType`]: type }).hiveMachineType).toBe(type);
  });

  it.each(["e2-medium", "n1-standard-1"])(
    "takes %s as a machine type, and refuses it only for the memory a Hive node needs",
    (type) => {
      expect(() => parseStackConfig({ ...minimal, [`${NS}:hiveMachineType`]: type })).toThrow(
        new RegExp(
          `^Config key '${NS}:hiveMachineType' accepts a machine type whose memory holds what runs on the hive master with 15% to spare`,
        ),
      );
    },
  );

  it("derives every project-unique name from the stack unless a prefix is set, and refuses a stack name too long for one", () => {
    expect(parseStackConfig(minimal, "prod")).toMatchObject({
      namePrefix: "clickstream-prod",
      bigqueryDataset: "clickstream_prod",
    });
    expect(parseStackConfig({ ...minimal, [`${NS}:namePrefix`]: "shop-eu" }, "prod")).toMatchObject({
      namePrefix: "shop-eu",
      bigqueryDataset: "shop_eu",
    });
    expect(() => parseStackConfig(minimal, "integration")).toThrow(
      `Config key '${NS}:namePrefix' accepts 3 to 17 lowercase letters, digits or hyphens, starting with a letter (unset, it is clickstream-<stack>, too long for the stack integration: set a shorter one); got 'clickstream-integration'.`,
    );
  });

  it("reads exactly the keys Pulumi.yaml declares, each with a type, a default and a description", () => {
    parseStackConfig(minimal);
    const declared = declaredSettings();
    expect([...KEYS_READ].filter((k) => !k.includes(":")).sort()).toEqual(Object.keys(declared.project).sort());
    expect(Object.keys(declared.providers)).toEqual(["gcp:region"]);
    // The access-log defaults are defined once, in contract/access-log.json; Pulumi.yaml repeats them exactly.
    expect({
      productUrlPattern: declared.project.accessLogProductUrlPattern.default,
      cartMethod: declared.project.accessLogCartMethod.default,
      cartUrlPattern: declared.project.accessLogCartUrlPattern.default,
      countedStatuses: declared.project.accessLogCountedStatuses.default,
    }).toEqual(ACCESS_LOG_DEFAULTS);
  });

  it("reads the example dev stack file as valid", () => {
    const config = parseStackConfig(stackFileConfig("Pulumi.dev.yaml"));
    expect(config.forceDestroy).toBe(true);
    expect(config.project).toBe("my-clickstream-dev");
  });

  it("accepts values given as strings the way `pulumi config set` stores them", () => {
    const config = parseStackConfig({
      ...minimal,
      "gcp:region": "europe-west1",
      [`${NS}:kafkaPartitions`]: "12",
      [`${NS}:allowIapSsh`]: "true",
      [`${NS}:subnetCidr`]: "192.168.16.0/20",
      [`${NS}:quarantineMaxShare`]: "0.2",
      [`${NS}:duplicateMaxShare`]: "0.1",
    });
    expect(config).toMatchObject({
      region: "europe-west1",
      kafkaPartitions: 12,
      allowIapSsh: true,
      subnetCidr: "192.168.16.0/20",
      quarantineMaxShare: 0.2,
      duplicateMaxShare: 0.1,
    });
  });

  it("matches the topic's partitions to the streaming executors' cores when the cluster has workers", () => {
    const scaled = parseStackConfig({
      ...minimal,
      [`${NS}:streamWorkers`]: "3",
      [`${NS}:streamWorkerMachineType`]: "n2-highcpu-8",
    });
    expect(scaled.kafkaPartitions).toBe(24);
    // Set by hand: any multiple of the cores, so each core reads as many partitions as every other.
    expect(
      parseStackConfig({ ...minimal, [`${NS}:streamWorkers`]: "2", [`${NS}:kafkaPartitions`]: "16" }).kafkaPartitions,
    ).toBe(16);
    // On the single node nothing is matched: the default stays, and any count is accepted.
    expect(parseStackConfig({ ...minimal, [`${NS}:kafkaPartitions`]: "5" }).kafkaPartitions).toBe(5);
  });

  it("gives Managed Kafka Google's recommended 4 GiB per vCPU unless the memory is set", () => {
    expect(
      parseStackConfig({ ...minimal, [`${NS}:kafka`]: "managed", [`${NS}:managedKafkaVcpus`]: "6" }),
    ).toMatchObject({ kafka: "managed", managedKafkaVcpus: 6, managedKafkaMemoryGib: 24 });
    expect(
      parseStackConfig({ ...minimal, [`${NS}:managedKafkaVcpus`]: "6", [`${NS}:managedKafkaMemoryGib`]: "48" })
        .managedKafkaMemoryGib,
    ).toBe(48);
  });

  it.each(["composer-3-airflow-2.10.5", "composer-3-airflow-2.10.5-build.23", "composer-3-airflow-2.11.0-build.4"])(
    "accepts the Composer 3 image %s, so an aged-out build has a config escape",
    (image) => {
      expect(parseStackConfig({ ...minimal, [`${NS}:composerImageVersion`]: image }).composerImageVersion).toBe(image);
    },
  );

  // Each case: the config that breaks one key, and the sentence the user must see.
  const invalid: [string, Record<string, string>, string][] = [
    [
      "a missing project",
      {},
      "Config key 'gcp:project' is required: set it with `pulumi config set gcp:project <value>`.",
    ],
    [
      "a malformed project id",
      { "gcp:project": "My_Project" },
      "Config key 'gcp:project' accepts a project id of 6 to 30 lowercase letters, digits or hyphens starting with a letter; got 'My_Project'.",
    ],
    [
      "an unknown region shape",
      { ...minimal, "gcp:region": "us-central" },
      "Config key 'gcp:region' accepts a Google Cloud region such as us-central1 or europe-west1; got 'us-central'.",
    ],
    [
      "a name prefix with capitals",
      { ...minimal, [`${NS}:namePrefix`]: "Click" },
      `Config key '${NS}:namePrefix' accepts 3 to 17 lowercase letters, digits or hyphens, starting with a letter; got 'Click'.`,
    ],
    [
      "a public subnet range",
      { ...minimal, [`${NS}:subnetCidr`]: "8.8.8.0/24" },
      `Config key '${NS}:subnetCidr' accepts a private IPv4 range from /16 to /28 written as its network address, e.g. 10.20.0.0/24; got '8.8.8.0/24'.`,
    ],
    [
      "a subnet range not on its boundary",
      { ...minimal, [`${NS}:subnetCidr`]: "10.20.0.7/24" },
      `Config key '${NS}:subnetCidr' accepts a private IPv4 range from /16 to /28 written as its network address, e.g. 10.20.0.0/24; got '10.20.0.7/24'.`,
    ],
    [
      "a subnet too large",
      { ...minimal, [`${NS}:subnetCidr`]: "10.0.0.0/8" },
      `Config key '${NS}:subnetCidr' accepts a private IPv4 range from /16 to /28 written as its network address, e.g. 10.20.0.0/24; got '10.0.0.0/8'.`,
    ],
    [
      "a boolean written as yes",
      { ...minimal, [`${NS}:allowIapSsh`]: "yes" },
      `Config key '${NS}:allowIapSsh' accepts true or false; got 'yes'.`,
    ],
    [
      "an unknown machine type",
      { ...minimal, [`${NS}:streamMachineType`]: "f1-micro" },
      `Config key '${NS}:streamMachineType' accepts ${MACHINE_TYPES}; got 'f1-micro'.`,
    ],
    [
      "a machine size Google does not offer",
      { ...minimal, [`${NS}:hiveMachineType`]: "e2-standard-64" },
      `Config key '${NS}:hiveMachineType' accepts ${MACHINE_TYPES}; got 'e2-standard-64'.`,
    ],
    [
      "a disk under Dataproc's minimum",
      { ...minimal, [`${NS}:diskSizeGb`]: "10" },
      `Config key '${NS}:diskSizeGb' accepts an integer from 30 to 1000; got '10'.`,
    ],
    [
      "a topic with a slash",
      { ...minimal, [`${NS}:kafkaTopic`]: "web/logs" },
      `Config key '${NS}:kafkaTopic' accepts a Kafka topic name of 1 to 249 letters, digits, '.', '_' or '-'; got 'web/logs'.`,
    ],
    [
      "zero partitions",
      { ...minimal, [`${NS}:kafkaPartitions`]: "0" },
      `Config key '${NS}:kafkaPartitions' accepts an integer from 1 to 1024; got '0'.`,
    ],
    [
      "partitions that leave executor cores idle",
      { ...minimal, [`${NS}:streamWorkers`]: "2", [`${NS}:kafkaPartitions`]: "12" },
      `Config key '${NS}:kafkaPartitions' accepts a multiple of the streaming executors' 8 cores (streamWorkers times the vCPUs of streamWorkerMachineType), or nothing for exactly that; got '12'.`,
    ],
    [
      "a kafka setting of neither kind",
      { ...minimal, [`${NS}:kafka`]: "confluent" },
      `Config key '${NS}:kafka' accepts dataproc or managed; got 'confluent'.`,
    ],
    [
      "a Managed Kafka cluster under Google's 3 vCPUs",
      { ...minimal, [`${NS}:managedKafkaVcpus`]: "2" },
      `Config key '${NS}:managedKafkaVcpus' accepts an integer from 3 to 1000; got '2'.`,
    ],
    [
      "Managed Kafka memory under 1 GiB per vCPU",
      { ...minimal, [`${NS}:managedKafkaVcpus`]: "6", [`${NS}:managedKafkaMemoryGib`]: "5" },
      `Config key '${NS}:managedKafkaMemoryGib' accepts from 6 to 48 GiB (1 to 8 GiB per vCPU of managedKafkaVcpus, 6); got '5'.`,
    ],
    [
      "Managed Kafka memory over 8 GiB per vCPU",
      { ...minimal, [`${NS}:managedKafkaMemoryGib`]: "25" },
      `Config key '${NS}:managedKafkaMemoryGib' accepts from 3 to 24 GiB (1 to 8 GiB per vCPU of managedKafkaVcpus, 3); got '25'.`,
    ],
    [
      "one streaming worker, which Dataproc refuses",
      { ...minimal, [`${NS}:streamWorkers`]: "1" },
      `Config key '${NS}:streamWorkers' accepts 0 (the master alone) or a number of primary workers from 2 to 100; got '1'.`,
    ],
    [
      "an odd-sized worker machine",
      { ...minimal, [`${NS}:streamWorkerMachineType`]: "e2-standard-3" },
      `Config key '${NS}:streamWorkerMachineType' accepts ${MACHINE_TYPES}; got 'e2-standard-3'.`,
    ],
    [
      "a Hive cluster of 2 workers, nothing left to autoscale",
      { ...minimal, [`${NS}:hiveMaxWorkers`]: "2" },
      `Config key '${NS}:hiveMaxWorkers' accepts 0 (a single node) or a largest size from 3 to 100 workers (2 primary, the rest autoscaled secondary workers); got '2'.`,
    ],
    [
      "a fractional rate",
      { ...minimal, [`${NS}:generatorRate`]: "2.5" },
      `Config key '${NS}:generatorRate' accepts an integer from 1 to 5000; got '2.5'.`,
    ],
    [
      "an event-age bound of zero days",
      { ...minimal, [`${NS}:maxEventAgeDays`]: "0" },
      `Config key '${NS}:maxEventAgeDays' accepts an integer from 1 to 3650; got '0'.`,
    ],
    [
      "a negative retention",
      { ...minimal, [`${NS}:rawRetentionDays`]: "-1" },
      `Config key '${NS}:rawRetentionDays' accepts an integer from 1 to 3650; got '-1'.`,
    ],
    [
      "forceDestroy as 1",
      { ...minimal, [`${NS}:forceDestroy`]: "1" },
      `Config key '${NS}:forceDestroy' accepts true or false; got '1'.`,
    ],
    [
      "a dataset id with a hyphen",
      { ...minimal, [`${NS}:bigqueryDataset`]: "click-stream" },
      `Config key '${NS}:bigqueryDataset' accepts a BigQuery dataset id of letters, digits and underscores; got 'click-stream'.`,
    ],
    [
      "a Composer 2 image",
      { ...minimal, [`${NS}:composerImageVersion`]: "composer-2.9.7-airflow-2.9.3" },
      `Config key '${NS}:composerImageVersion' accepts ${COMPOSER_IMAGES}; got 'composer-2.9.7-airflow-2.9.3'.`,
    ],
    [
      "a Composer image with a short Airflow version",
      { ...minimal, [`${NS}:composerImageVersion`]: "composer-3-airflow-2.10" },
      `Config key '${NS}:composerImageVersion' accepts ${COMPOSER_IMAGES}; got 'composer-3-airflow-2.10'.`,
    ],
    [
      "a Composer image with an empty build",
      { ...minimal, [`${NS}:composerImageVersion`]: "composer-3-airflow-2.10.5-build." },
      `Config key '${NS}:composerImageVersion' accepts ${COMPOSER_IMAGES}; got 'composer-3-airflow-2.10.5-build.'.`,
    ],
    [
      "a share over 1",
      { ...minimal, [`${NS}:quarantineMaxShare`]: "1.5" },
      `Config key '${NS}:quarantineMaxShare' accepts a number from 0 to 1; got '1.5'.`,
    ],
    [
      "a negative duplicate share",
      { ...minimal, [`${NS}:duplicateMaxShare`]: "-0.1" },
      `Config key '${NS}:duplicateMaxShare' accepts a number from 0 to 1; got '-0.1'.`,
    ],
    [
      "an unknown input format",
      { ...minimal, [`${NS}:inputFormat`]: "apache" },
      `Config key '${NS}:inputFormat' accepts json or combined (combined: nginx or Apache access-log lines); got 'apache'.`,
    ],
    [
      "a product URL pattern without the product_id group",
      { ...minimal, [`${NS}:accessLogProductUrlPattern`]: "^/products/([^/]+)" },
      `Config key '${NS}:accessLogProductUrlPattern' accepts a regular expression with a named group product_id in the subset that cannot backtrack for long (no backreference, lookaround or nested repetition, and no repetition but the last that can also match what may follow it, as .*-.* does), e.g. ^/products/(?<product_id>[^/?#]+); got '^/products/([^/]+)'.`,
    ],
    [
      "a product URL pattern that backtracks for seconds on a long URL",
      { ...minimal, [`${NS}:accessLogProductUrlPattern`]: "^/products/(?<product_id>.*)-(.*)-(.*)-(.*)/details$" },
      `Config key '${NS}:accessLogProductUrlPattern' accepts a regular expression with a named group product_id in the subset that cannot backtrack for long (no backreference, lookaround or nested repetition, and no repetition but the last that can also match what may follow it, as .*-.* does), e.g. ^/products/(?<product_id>[^/?#]+); got '^/products/(?<product_id>.*)-(.*)-(.*)-(.*)/details$'.`,
    ],
    [
      "a cart URL pattern that does not compile",
      { ...minimal, [`${NS}:accessLogCartUrlPattern`]: "^/cart/(?<product_id>" },
      `Config key '${NS}:accessLogCartUrlPattern' accepts a regular expression with a named group product_id in the subset that cannot backtrack for long (no backreference, lookaround or nested repetition, and no repetition but the last that can also match what may follow it, as .*-.* does), e.g. ^/cart/items/(?<product_id>[^/?#]+); got '^/cart/(?<product_id>'.`,
    ],
    [
      "a cart method in lower case",
      { ...minimal, [`${NS}:accessLogCartMethod`]: "post" },
      `Config key '${NS}:accessLogCartMethod' accepts an HTTP method in capitals, e.g. POST; got 'post'.`,
    ],
    [
      "a status range upside down",
      { ...minimal, [`${NS}:accessLogCountedStatuses`]: "399-200" },
      `Config key '${NS}:accessLogCountedStatuses' accepts HTTP statuses or ranges separated by commas, e.g. 200-399 or 200-299,304; got '399-200'.`,
    ],
    [
      "a misspelt key",
      { ...minimal, [`${NS}:kafkaPartition`]: "3" },
      `Config key '${NS}:kafkaPartition' is not a setting of this stack, which accepts ${CONFIG_KEYS.filter((k) => !k.includes(":")).join(", ")}.`,
    ],
  ];

  it.each(invalid)("rejects %s with one sentence naming the key", (_case, raw, message) => {
    let thrown: unknown;
    try {
      parseStackConfig(raw);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(StackConfigError);
    expect((thrown as Error).message).toBe(message);
    // One sentence: a single full stop, at the end.
    expect((thrown as Error).message.replace(/e\.g\.|\d\.\d|\.[a-z0-9*]/g, "").match(/\.(\s|$)/g)).toHaveLength(1);
  });

  it.each(invalid)("declares no resource at all for %s", async (_case, raw, message) => {
    const run = await runProgram(raw);
    expect(run.error?.message).toBe(message);
    expect(run.resources).toEqual([]);
  });
});

describe("an access-log topic (inputFormat combined)", () => {
  it("has the streaming job read combined lines with the configured mapping, and the demo generator write them", async () => {
    const run = await runProgram({
      ...stackFileConfig("Pulumi.dev.yaml"),
      [`${NS}:inputFormat`]: "combined",
      [`${NS}:accessLogProductUrlPattern`]: "^/p/(?<product_id>[a-z0-9-]+)\\.html$",
      [`${NS}:accessLogCountedStatuses`]: "200,304",
    });
    if (run.error) throw run.error;
    const job = byName(run, "streaming-spark-job").inputs;
    const args = job.pysparkConfig.args as string[];
    expect(args.slice(args.indexOf("--input-format"))).toEqual([
      "--input-format",
      "combined",
      "--product-url-pattern",
      "^/p/(?<product_id>[a-z0-9-]+)\\.html$",
      "--cart-method",
      "POST",
      "--cart-url-pattern",
      "^/cart/items/(?<product_id>[^/?#]+)/?(?:[?#].*)?$",
      "--counted-statuses",
      "200,304",
    ]);
    expect(byName(run, "streaming-cluster").inputs.clusterConfig.gceClusterConfig.metadata["generator-format"]).toBe(
      "combined",
    );
  }, 60_000);
});
