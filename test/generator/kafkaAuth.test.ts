// The generator's SASL/SCRAM login to the stack's own broker: the user from a flag, the password from the
// environment only (a flag would show it in the process list), and the kafkajs settings each choice gives.
import { parseOptions, UsageError } from "../../generator/options";
import { kafkaAuthConfig } from "../../generator/sinks";

describe("--kafka-auth scram", () => {
  it("logs in as --kafka-user (generator unless set) with the password of GENERATOR_KAFKA_PASSWORD", () => {
    const options = parseOptions(["--kafka-auth", "scram"], { GENERATOR_KAFKA_PASSWORD: "pw" })!;
    expect({ auth: options.kafkaAuth, user: options.kafkaUser, password: options.kafkaPassword }).toEqual({
      auth: "scram",
      user: "generator",
      password: "pw",
    });
    expect(
      parseOptions(["--kafka-auth", "scram", "--kafka-user", "shipper"], { GENERATOR_KAFKA_PASSWORD: "pw" })!.kafkaUser,
    ).toBe("shipper");
    expect(kafkaAuthConfig(options)).toEqual({
      sasl: { mechanism: "scram-sha-512", username: "generator", password: "pw" },
    });
  });

  it("refuses to start without the password in the environment, and takes no password flag", () => {
    expect(() => parseOptions(["--kafka-auth", "scram"], {})).toThrow(
      new UsageError("--kafka-auth scram needs the password in the environment variable GENERATOR_KAFKA_PASSWORD"),
    );
    expect(() =>
      parseOptions(["--kafka-auth", "scram", "--kafka-password", "pw"], { GENERATOR_KAFKA_PASSWORD: "pw" }),
    ).toThrow(new UsageError("unknown option '--kafka-password' (see --help)"));
  });

  it("refuses a user name that is not a plain principal", () => {
    expect(() => parseOptions(["--kafka-user", "User:admin"])).toThrow(UsageError);
  });

  it("leaves plaintext (the sandbox's loopback broker) and Google's login as they were", () => {
    expect(kafkaAuthConfig(parseOptions([])!)).toEqual({});
    const google = kafkaAuthConfig(parseOptions(["--kafka-auth", "google"])!);
    expect(google.ssl).toBe(true);
    expect(google.sasl?.mechanism).toBe("oauthbearer");
  });
});
