/** What the numbers were measured on: they mean little without the machine and how busy it was. */
import { cpus, freemem, loadavg, totalmem, platform, release } from 'node:os';
import { spawnSync } from 'node:child_process';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  freeMemoryGiB: number;
  node: string;
  os: string;
  /** 1, 5 and 15 minute load averages when the bench started (other engineers share the machine) */
  loadAverageAtStart: [number, number, number];
  redisVersion: string | null;
  kafkaVersion: string | null;
  duckdbVersion: string | null;
}

/** `lscpu` names the model when /proc/cpuinfo (and so os.cpus()) only says e.g. "AMD EPYC". */
function cpuModel(): string {
  const fromNode = cpus()[0]?.model?.trim() ?? 'unknown';
  const lscpu = spawnSync('lscpu', [], { encoding: 'utf8' });
  const line = lscpu.status === 0 ? lscpu.stdout.split('\n').find((l) => l.startsWith('Model name:')) : undefined;
  const model = line?.slice('Model name:'.length).trim();
  return model && model.length > fromNode.length ? model : fromNode;
}

const gib = (bytes: number) => Math.round((bytes / 2 ** 30) * 10) / 10;

export function machineInfo(versions: Pick<MachineInfo, 'redisVersion' | 'kafkaVersion' | 'duckdbVersion'>): MachineInfo {
  const [l1, l5, l15] = loadavg();
  return {
    cpuModel: cpuModel(),
    cores: cpus().length,
    memoryGiB: gib(totalmem()),
    freeMemoryGiB: gib(freemem()),
    node: process.version,
    os: `${platform()} ${release()}`,
    loadAverageAtStart: [l1 ?? 0, l5 ?? 0, l15 ?? 0].map((v) => Math.round(v * 100) / 100) as [number, number, number],
    ...versions,
  };
}

export function currentLoad(): number {
  return Math.round((loadavg()[0] ?? 0) * 100) / 100;
}
