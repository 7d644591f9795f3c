import { describe, expect, it } from 'vitest';
import { makeProcessFilter } from '../../src/collapse/filter.js';
import { UsageError } from '../../src/errors.js';

describe('makeProcessFilter', () => {
  it('returns no filter when nothing is asked, so parsers skip the work', () => {
    expect(makeProcessFilter({})).toBeUndefined();
    expect(makeProcessFilter({ comm: '', iris: false })).toBeUndefined();
  });

  it('matches --comm as an unanchored regular expression', () => {
    const filter = makeProcessFilter({ comm: 'java|node' })!;
    expect(filter('java', [])).toBe(true);
    expect(filter('nodejs', [])).toBe(true);
    expect(filter('bash', [])).toBe(false);
  });

  it('throws a UsageError naming the option for a bad regular expression', () => {
    expect(() => makeProcessFilter({ comm: '(unclosed' })).toThrow(UsageError);
    expect(() => makeProcessFilter({ comm: '(unclosed' })).toThrow(/--comm/);
  });

  it('keeps IRIS programs by name with --iris', () => {
    const filter = makeProcessFilter({ iris: true })!;
    for (const comm of ['iris', 'irisdb', 'iriswdimj', 'irisrecov']) expect(filter(comm, [])).toBe(true);
    expect(filter('bash', [])).toBe(false);
  });

  it('keeps any process running code from the IRIS install dir, and honours --iris-dir', () => {
    expect(makeProcessFilter({ iris: true })!('httpd', ['/usr/irissys/httpd/bin/httpd'])).toBe(true);
    expect(makeProcessFilter({ iris: true })!('httpd', ['/usr/sbin/httpd'])).toBe(false);
    const custom = makeProcessFilter({ iris: true, irisDir: '/opt/iris' })!;
    expect(custom('worker', ['/lib/libc.so.6', '/opt/iris/bin/libcache.so'])).toBe(true);
    expect(custom('worker', ['/usr/irissys/bin/irisdb'])).toBe(false);
  });

  it('requires both when --comm and --iris are given', () => {
    const filter = makeProcessFilter({ comm: '^irisdb$', iris: true })!;
    expect(filter('irisdb', [])).toBe(true);
    expect(filter('iris', [])).toBe(false);
    expect(filter('irisdb2', [])).toBe(false);
  });
});
