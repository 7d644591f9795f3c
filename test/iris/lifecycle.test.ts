import { describe, expect, test } from 'vitest';
import { labelProcess, rootFrameFor, routineOf, splitShellWords } from '../../src/iris/lifecycle.js';

const MGR = '-s/data/IRIS/mgr/';

describe('routine labels from argv', () => {
  test.each([
    [['./irisdb', MGR, '-cj', '-p13', 'START^MONITOR'], 'irisdb START^MONITOR', 'START^MONITOR'],
    [['./irisdb', MGR, '-cj', '-p13', '^RECEIVE'], 'irisdb ^RECEIVE', '^RECEIVE'],
    [['./irisdb', MGR, '-cj', '-p13', 'Master^%SYS.SERVER'], 'irisdb Master^%SYS.SERVER', 'Master^%SYS.SERVER'],
    [['/usr/irissys/bin/irisdb', MGR, '-U', '-B', 'OPT^SHUTDOWN(1)'], 'irisdb OPT^SHUTDOWN(1)', 'OPT^SHUTDOWN(1)'],
    [['./irisdb', MGR, '-U', '-B', '-b1024', '-Erunlevel=sys/complete', 'QUIET^STU'], 'irisdb QUIET^STU', 'QUIET^STU'],
  ])('an IRIS job is named by its entry routine: %j', (argv, text, routine) => {
    expect(labelProcess(argv, 'irisdb')).toEqual({ program: 'irisdb', routine, text });
  });

  test.each([
    [['./irisdb', MGR, '-cV'], 'irisdb -cV'],
    [['irisstop', 'quietly', 'restart'], 'irisstop quietly restart'],
    [['iriswdimj', '-j', '/data/IRIS/mgr/'], 'iriswdimj -j …'],
    [['irisrecov', '/data/IRIS/mgr/', 'quietly'], 'irisrecov quietly'],
    [['httpd', '-f', '/data/IRIS/httpd/conf/httpd.conf', '-d', '/usr/irissys/httpd'], 'httpd -f … -d …'],
  ])('a process without a routine keeps its short, path-free arguments: %j', (argv, text) => {
    expect(labelProcess(argv, 'x').text).toBe(text);
  });

  test('sh -c is labelled by the command it runs', () => {
    const argv = ['sh', '-c', "/usr/irissys/bin/irisdb -s/data/IRIS/mgr/ -U -B 'OPT^SHUTDOWN(1)'"];
    expect(labelProcess(argv, 'sh')).toEqual({ program: 'sh', routine: 'OPT^SHUTDOWN(1)', text: 'sh -c irisdb OPT^SHUTDOWN(1)' });
  });

  test('a caret in the arguments of a non-IRIS program is not a routine', () => {
    expect(labelProcess(['grep', 'START^MONITOR'], 'grep')).toEqual({ program: 'grep', routine: undefined, text: 'grep START^MONITOR' });
  });

  test('without argv the comm is the label', () => {
    expect(labelProcess(undefined, 'irisdb').text).toBe('irisdb');
    expect(labelProcess([], 'irisdb').text).toBe('irisdb');
  });

  test('the routine is the last argument that names one, and argv[0] never counts', () => {
    expect(routineOf(['A^B', 'x', 'START^MONITOR', '-q'])).toBe('START^MONITOR');
    expect(routineOf(['A^B'])).toBeUndefined();
    expect(routineOf(['irisdb', '^', 'a^', '1^X'])).toBeUndefined();
  });

  test('root frames get the routine only for IRIS jobs that name one', () => {
    expect(rootFrameFor('irisdb', ['./irisdb', MGR, '-cj', '-p13', 'START^CLNDMN'])).toBe('irisdb START^CLNDMN');
    expect(rootFrameFor('irisdb', ['./irisdb', MGR, '-cV'])).toBe('irisdb');
    expect(rootFrameFor('irisdb', undefined)).toBe('irisdb');
  });

  test('shell words split on blanks and keep quoted text whole', () => {
    expect(splitShellWords(`a  'b c' "d'e" f`)).toEqual(['a', 'b c', "d'e", 'f']);
  });
});
