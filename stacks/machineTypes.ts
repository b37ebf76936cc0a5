// Compute Engine machine types a Dataproc node may use, by family: their vCPUs and memory, from Google's
// machine-family pages (general-purpose E2, N1, N2, N2D, N4, T2D; compute-optimised C3).
export interface MachineShape {
  vcpus: number;
  memoryGib: number;
}

interface Series {
  /** vCPU counts Google offers for the series. */
  vcpus: number[];
  /** GiB of memory per vCPU. */
  gibPerVcpu: number;
}

const powers = (max: number) => [2, 4, 8, 16, 32, 64, 128].filter((n) => n <= max);

export const MACHINE_FAMILIES: Record<string, Record<string, Series>> = {
  e2: {
    standard: { vcpus: powers(32), gibPerVcpu: 4 },
    highmem: { vcpus: powers(16), gibPerVcpu: 8 },
    highcpu: { vcpus: powers(32), gibPerVcpu: 1 },
  },
  n1: {
    standard: { vcpus: [1, ...powers(64), 96], gibPerVcpu: 3.75 },
    highmem: { vcpus: [...powers(64), 96], gibPerVcpu: 6.5 },
    highcpu: { vcpus: [...powers(64), 96], gibPerVcpu: 0.9 },
  },
  n2: {
    standard: { vcpus: [2, 4, 8, 16, 32, 48, 64, 80, 96, 128], gibPerVcpu: 4 },
    highmem: { vcpus: [2, 4, 8, 16, 32, 48, 64, 80, 96, 128], gibPerVcpu: 8 },
    highcpu: { vcpus: [2, 4, 8, 16, 32, 48, 64, 80, 96], gibPerVcpu: 1 },
  },
  n2d: {
    standard: { vcpus: [2, 4, 8, 16, 32, 48, 64, 80, 96, 128, 224], gibPerVcpu: 4 },
    highmem: { vcpus: [2, 4, 8, 16, 32, 48, 64, 80, 96], gibPerVcpu: 8 },
    highcpu: { vcpus: [2, 4, 8, 16, 32, 48, 64, 80, 96, 128, 224], gibPerVcpu: 1 },
  },
  n4: {
    standard: { vcpus: [2, 4, 8, 16, 32, 48, 64, 80], gibPerVcpu: 4 },
    highmem: { vcpus: [2, 4, 8, 16, 32, 48, 64, 80], gibPerVcpu: 8 },
    highcpu: { vcpus: [2, 4, 8, 16, 32, 48, 64, 80], gibPerVcpu: 2 },
  },
  c3: {
    standard: { vcpus: [4, 8, 22, 44, 88, 176], gibPerVcpu: 4 },
    highmem: { vcpus: [4, 8, 22, 44, 88, 176], gibPerVcpu: 8 },
    highcpu: { vcpus: [4, 8, 22, 44, 88, 176], gibPerVcpu: 2 },
  },
  t2d: { standard: { vcpus: [1, 2, 4, 8, 16, 32, 48, 60], gibPerVcpu: 4 } },
};

/** E2's shared-core types: 2 vCPUs shared, and their memory. Dataproc needs at least e2-medium's. */
export const SHARED_CORE: Record<string, MachineShape> = { "e2-medium": { vcpus: 2, memoryGib: 4 } };

export const MACHINE_TYPES_ACCEPTED =
  "a Compute Engine machine type Google offers, e.g. e2-medium, e2-standard-4 or n2-highmem-16 (families e2, n1, n2, n2d, n4, c3, t2d)";

/** The vCPUs and memory of a machine type, or undefined when Google offers no such type. */
export function machineShape(machineType: string): MachineShape | undefined {
  if (SHARED_CORE[machineType]) return SHARED_CORE[machineType];
  const m = /^([a-z0-9]+)-([a-z]+)-(\d+)$/.exec(machineType);
  const series = m ? MACHINE_FAMILIES[m[1]]?.[m[2]] : undefined;
  if (!m || !series || !series.vcpus.includes(Number(m[3]))) return undefined;
  const vcpus = Number(m[3]);
  return { vcpus, memoryGib: vcpus * series.gibPerVcpu };
}
