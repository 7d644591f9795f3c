/** perf prints microseconds; rounding each absolute time the same way keeps counts exact across the page. */
export function toMicros(seconds: number): number {
  return Math.round(seconds * 1e6);
}
