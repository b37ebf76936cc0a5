import { Partitioners, PartitionerArgs } from "kafkajs";
import { keyPartitioner, murmur2 } from "../../generator/partitioner";
import { TrafficModel } from "../../generator/traffic";
import { seededRandom } from "../../generator/random";

const metadata = (partitions: number): PartitionerArgs["partitionMetadata"] =>
  Array.from({ length: partitions }, (_, partitionId) => ({
    partitionId,
    leader: 0,
    partitionErrorCode: 0,
    replicas: [0],
    isr: [0],
  }));

describe("the generator's partitioner", () => {
  test("hashes as Kafka's Java client does (the vectors of Kafka's own Utils test)", () => {
    const vectors: Array<[string, number]> = [
      ["21", -973932308],
      ["foobar", -790332482],
      ["a-little-bit-long-string", -985981536],
      ["a-little-bit-longer-string", -1486304829],
      ["lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971],
      ["abc", 479470107],
    ];
    for (const [key, hash] of vectors) expect([key, murmur2(Buffer.from(key))]).toEqual([key, hash]);
  });

  test("puts every key where kafkajs's default partitioner puts it, for any length, bytes and partition count", () => {
    const random = seededRandom(11);
    const model = new TrafficModel({ seed: 11, products: 100, malformedRate: 0 });
    const keys: Array<string | Buffer> = [
      "",
      "ü",
      "sessions ü 😀",
      ...Array.from({ length: 300 }, (_, i) => model.next(i * 1000).key),
      ...Array.from({ length: 200 }, (_, i) => Buffer.from(Array.from({ length: i % 41 }, () => random.int(256)))),
    ];
    const ours = keyPartitioner();
    const kafkajs = Partitioners.DefaultPartitioner();
    for (const partitions of [1, 2, 3, 7, 12]) {
      const partitionMetadata = metadata(partitions);
      for (const key of keys) {
        const args = { topic: "weblogs", partitionMetadata, message: { key, value: "x" } };
        expect([key, ours(args)]).toEqual([key, kafkajs(args)]);
      }
    }
  });

  test("keeps a partition the message names, and refuses a message without a key", () => {
    const partitionMetadata = metadata(3);
    expect(keyPartitioner()({ topic: "t", partitionMetadata, message: { key: "k", value: "x", partition: 2 } })).toBe(
      2,
    );
    expect(() => keyPartitioner()({ topic: "t", partitionMetadata, message: { value: "x" } })).toThrow(
      "the generator sends keyed messages only",
    );
  });
});
