/**
 * A small in-memory round-robin database per container, fed from the runtime's real figures
 * every few seconds, answering GET .../rrddata like PVE (pve-manager PVE/API2Tools /
 * pve-cluster RRD.pm create_rrd_data): 70 rows per time frame, one per step, averaged (cf
 * AVERAGE, the default) or the maximum (cf MAX); counters become per-second rates; a row
 * without data has only its `time`.
 */

/** Step in seconds of each time frame (the resolutions of PVE's guest RRAs). */
export const TIMEFRAME_STEPS: Record<string, number> = {
  hour: 60,
  day: 1800,
  week: 10800,
  month: 43200,
  year: 604800,
};
const ROWS = 70;

/** What a sample reads from the runtime (cumulative counters as the cgroup/veths give them). */
export interface RawSample {
  running: boolean;
  cpuSeconds: number;
  maxcpu: number;
  memoryBytes: number;
  memoryMaxBytes: number;
  maxdisk: number;
  netInBytes: number;
  netOutBytes: number;
  diskReadBytes: number;
  diskWriteBytes: number;
}

const FIELDS = [
  'cpu',
  'maxcpu',
  'mem',
  'maxmem',
  'disk',
  'maxdisk',
  'netin',
  'netout',
  'diskread',
  'diskwrite',
] as const;
type Field = (typeof FIELDS)[number];
type Point = Record<Field, number>;

interface Bucket {
  count: number;
  sum: Point;
  max: Point;
}

interface Series {
  last?: { time: number; raw: RawSample };
  latest?: Point;
  /** step -> bucket start -> bucket */
  buckets: Map<number, Map<number, Bucket>>;
}

export class RrdDatabase {
  private readonly series = new Map<number, Series>();

  /** Adds a sample taken at `time` (seconds). */
  record(vmid: number, time: number, raw: RawSample): void {
    let series = this.series.get(vmid);
    if (!series) {
      series = { buckets: new Map() };
      this.series.set(vmid, series);
    }
    const previous = series.last;
    const elapsed = previous ? time - previous.time : 0;
    const rate = (now: number, before: number | undefined) =>
      raw.running && before !== undefined && elapsed > 0 ? Math.max(0, (now - before) / elapsed) : 0;
    const point: Point = {
      cpu: raw.maxcpu > 0 ? rate(raw.cpuSeconds, previous?.raw.cpuSeconds) / raw.maxcpu : 0,
      maxcpu: raw.maxcpu,
      mem: raw.running ? raw.memoryBytes : 0,
      maxmem: raw.memoryMaxBytes,
      disk: 0,
      maxdisk: raw.maxdisk,
      netin: rate(raw.netInBytes, previous?.raw.netInBytes),
      netout: rate(raw.netOutBytes, previous?.raw.netOutBytes),
      diskread: rate(raw.diskReadBytes, previous?.raw.diskReadBytes),
      diskwrite: rate(raw.diskWriteBytes, previous?.raw.diskWriteBytes),
    };
    series.last = { time, raw };
    series.latest = point;
    for (const step of Object.values(TIMEFRAME_STEPS)) {
      let buckets = series.buckets.get(step);
      if (!buckets) {
        buckets = new Map();
        series.buckets.set(step, buckets);
      }
      const start = Math.floor(time / step) * step;
      let bucket = buckets.get(start);
      if (!bucket) {
        bucket = { count: 0, sum: zero(), max: zero() };
        buckets.set(start, bucket);
      }
      bucket.count++;
      for (const field of FIELDS) {
        bucket.sum[field] += point[field];
        bucket.max[field] = Math.max(bucket.max[field], point[field]);
      }
      for (const key of buckets.keys()) if (key <= start - ROWS * step) buckets.delete(key);
    }
  }

  has(vmid: number): boolean {
    return this.series.has(vmid);
  }

  forget(vmid: number): void {
    this.series.delete(vmid);
  }

  /** CPU usage (fraction of the container's CPUs) between the last two samples. */
  latestCpu(vmid: number): number {
    return this.series.get(vmid)?.latest?.cpu ?? 0;
  }

  rows(vmid: number, timeframe: string, cf: 'AVERAGE' | 'MAX', now: number): Record<string, number>[] {
    const step = TIMEFRAME_STEPS[timeframe];
    if (step === undefined) throw new Error(`unknown timeframe '${timeframe}'`);
    const buckets = this.series.get(vmid)?.buckets.get(step);
    const last = Math.floor(now / step) * step;
    const rows: Record<string, number>[] = [];
    for (let i = ROWS - 1; i >= 0; i--) {
      const time = last - i * step;
      const bucket = buckets?.get(time);
      if (!bucket) {
        rows.push({ time });
        continue;
      }
      const row: Record<string, number> = { time };
      for (const field of FIELDS)
        row[field] = cf === 'MAX' ? bucket.max[field] : bucket.sum[field] / bucket.count;
      rows.push(row);
    }
    return rows;
  }
}

function zero(): Point {
  return Object.fromEntries(FIELDS.map((field) => [field, 0])) as Point;
}
