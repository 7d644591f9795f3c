import { describe, expect, test } from 'vitest';
import { fileGroupOf } from '../../src/iris/file-groups.js';

describe('IRIS file groups by path', () => {
  test.each([
    ['/usr/irissys/iris.cpf', 'CPF'],
    ['/usr/irissys/_LastGood_.cpf', 'CPF'],
    ['/data/IRIS/iris.cpf_20261130', 'CPF'],
    ['/usr/irissys/mgr/journal/20261130.001', 'journal'],
    ['/data/jrn/20261130.002', 'journal'],
    ['/usr/irissys/mgr/journal.log', 'journal'],
    ['/usr/irissys/mgr/journal/anything', 'journal'],
    ['/usr/irissys/mgr/IRIS.WIJ', 'WIJ'],
    ['/wij/IRIS.WIJ', 'WIJ'],
    ['/usr/irissys/mgr/user/IRIS.DAT', 'databases'],
    ['/usr/irissys/mgr/iris.lck', 'databases'],
    ['/lib/x86_64-linux-gnu/libc.so.6', 'libraries'],
    ['/usr/irissys/bin/libirisodbc35.so', 'libraries'],
    ['/etc/ld.so.cache', 'libraries'],
    ['/usr/lib/locale/locale-archive', 'libraries'],
    ['/usr/irissys/mgr/messages.log', 'other'],
    ['/proc/self/status', 'other'],
    ['IRIS.DAT', 'databases'],
    ['', 'other'],
  ])('%s is %s', (path, group) => {
    expect(fileGroupOf(path)).toBe(group);
  });

  test('a shared object under mgr/ is a library, not a database or journal', () => {
    expect(fileGroupOf('/usr/irissys/mgr/journal/libx.so')).toBe('libraries');
  });
});
