/** The public API that `record` and the lifecycle view call: writeFlamegraph and renderFlamegraph. */
import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { renderFlamegraph, writeFlamegraph } from '../../src/flamegraph/index.js';
import { parseFolded } from './support/folded.js';
import { drawnFrameCount, parseSvgFrames } from './support/svg-frames.js';
import { checkXml } from './support/xml-check.js';

describe('the flame graph API', () => {
  it('streams the same document that renderFlamegraph returns, waiting for a slow reader', async () => {
    const input = parseFolded(Array.from({ length: 3000 }, (_, i) => `main;f${i % 37};g${i} ${1 + (i % 5)}`).join('\n'));
    const expected = renderFlamegraph(input, { minwidth: 0 });
    const chunks: Buffer[] = [];
    let writes = 0;
    const slow = new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _encoding, done) {
        writes++;
        chunks.push(chunk);
        setImmediate(done);
      },
    });
    const report = await writeFlamegraph(input, { minwidth: 0 }, slow);
    expect(Buffer.concat(chunks).toString('utf8')).toBe(expected);
    expect(writes).toBeGreaterThan(1);
    expect(report.frames).toBe(drawnFrameCount(expected));
    expect(report.total).toBe(input.stacks.size === 0 ? 0 : [...input.stacks.values()].reduce((a, b) => a + b, 0));
  });

  it('does not end the stream it writes to', async () => {
    const out = new PassThrough();
    out.resume();
    await writeFlamegraph(parseFolded('a 1\n'), {}, out);
    expect(out.writableEnded).toBe(false);
  });

  it('fails with NO_STACKS on an empty profile', () => {
    expect(() => renderFlamegraph({ stacks: new Map() }, {})).toThrow(expect.objectContaining({ code: 'NO_STACKS' }));
    expect(() => renderFlamegraph({ stacks: new Map([['a', 0]]) }, {})).toThrow(expect.objectContaining({ code: 'NO_STACKS' }));
  });

  it('draws an empty profile with --total as a valid graph holding only the root', () => {
    const svg = renderFlamegraph({ stacks: new Map() }, { total: 500 });
    expect(checkXml(svg).error).toBeUndefined();
    const frames = parseSvgFrames(svg);
    expect(frames.map((frame) => [frame.title, frame.width])).toEqual([['all (500 samples, 100%)', 1180]]);
  });

  it('reports warnings (ignored --total, low count) instead of printing them', async () => {
    const out = new PassThrough();
    out.resume();
    const report = await writeFlamegraph(parseFolded('a 50\n'), { total: 10 }, out);
    expect(report.warnings).toEqual([
      'stack count is low (50); did something go wrong?',
      '--total 10 is less than the actual total 50, so it is ignored',
    ]);
  });
});
