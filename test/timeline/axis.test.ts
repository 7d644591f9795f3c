import { describe, expect, test } from 'vitest';
import { axisTicks } from '../../src/timeline/page-data.js';

describe('the lifecycle time axis', () => {
  test('puts ticks on round steps from zero to the end of a 2.5 s recording, labelled in seconds', () => {
    const ticks = axisTicks(2_521_000);
    expect(ticks.map((tick) => tick.label)).toEqual([
      '0.0 s', '0.2 s', '0.4 s', '0.6 s', '0.8 s', '1.0 s', '1.2 s', '1.4 s', '1.6 s', '1.8 s', '2.0 s', '2.2 s', '2.4 s',
    ]);
    expect(ticks[1]!.t).toBe(200_000);
  });

  test('uses whole seconds on a minute-long recording and never runs past its end', () => {
    const ticks = axisTicks(61_300_000);
    expect(ticks[1]).toEqual({ t: 5_000_000, label: '5 s' });
    expect(ticks.at(-1)!.t).toBeLessThanOrEqual(61_300_000);
  });
});
