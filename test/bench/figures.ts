/**
 * How benchmarks report: each figure is printed as it is measured (`bench: …`) and again,
 * all together, under the benchmark's title when its file ends, so the figures stand out in
 * the suite's output.
 */
export function benchFigures(title: string) {
  const lines: string[] = [];
  return {
    report(line: string): void {
      lines.push(line);
      console.log(`bench: ${line}`);
    },
    summary(): void {
      console.log(`\n=== ${title} ===\n${lines.join('\n')}\n`);
    },
  };
}

/** The middle value (the upper one of an even count); 0 for none. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}
