/**
 * HTTP basic authentication against `basic_auth_users` (bcrypt hashes), as exporter-toolkit checks it:
 * an unknown user is checked against a fixed hash all the same (no timing difference tells which users
 * exist), bcryptjs compares the final hash in constant time, and a good check is cached under a SHA-256 of
 * user, hash and password, so a 1 s scrape does not pay bcrypt (tens of ms) every time.
 *
 * Unlike exporter-toolkit, failures are not cached: every wrong guess pays the full bcrypt cost. Checks run
 * one at a time (bcrypt is CPU work on the agent's only thread) and at most MAX_WAITING_CHECKS wait; beyond
 * that a request is refused at once, so a flood of guesses cannot queue unbounded work.
 */
import { createHash } from 'node:crypto';
import bcrypt from 'bcryptjs';

/** bcrypt of a random password, cost 10: what an unknown user is checked against. */
const UNKNOWN_USER_HASH = '$2b$10$MvZ8ezAonyC4ZNPo.rybpu12dnmc3Y73EFWY1C8KApiuLvVZ/l.Aa';
/** Good checks remembered (one per user and password in use: a handful in practice). */
const CACHE_ENTRIES = 64;
/** bcrypt checks allowed to wait behind the running one before requests are refused (503). */
const MAX_WAITING_CHECKS = 16;

export type AuthResult = 'ok' | 'denied' | 'busy';

export class BasicAuth {
  private readonly good = new Set<string>();
  private queue: Promise<unknown> = Promise.resolve();
  private waiting = 0;
  /** bcrypt comparisons actually run (the cache's misses), for tests and the report. */
  bcryptChecks = 0;

  constructor(private readonly users: ReadonlyMap<string, string>) {}

  get enabled(): boolean {
    return this.users.size > 0;
  }

  /** Check an `Authorization` header value. */
  async check(header: string | undefined): Promise<AuthResult> {
    const credentials = parseBasic(header);
    if (credentials === undefined) return 'denied';
    const known = this.users.get(credentials.user);
    const hash = known ?? UNKNOWN_USER_HASH;
    const key = createHash('sha256').update(`${credentials.user}\0${hash}\0${credentials.password}`).digest('hex');
    if (known !== undefined && this.good.has(key)) return 'ok';
    if (this.waiting >= MAX_WAITING_CHECKS) return 'busy';
    this.waiting++;
    const run = this.queue.then(() => {
      // A check ahead in the queue may have proved these very credentials: a burst of scrapes that arrives
      // before the first check is cached then pays bcrypt once, not once per request.
      if (known !== undefined && this.good.has(key)) return true;
      this.bcryptChecks++;
      return bcrypt.compare(credentials.password, hash);
    });
    this.queue = run.catch(() => undefined);
    let matches: boolean;
    try {
      matches = await run;
    } catch {
      matches = false;
    } finally {
      this.waiting--;
    }
    if (!matches || known === undefined) return 'denied';
    if (this.good.size >= CACHE_ENTRIES) this.good.delete(this.good.values().next().value!);
    this.good.add(key);
    return 'ok';
  }
}

function parseBasic(header: string | undefined): { user: string; password: string } | undefined {
  const match = header === undefined ? null : /^Basic +([A-Za-z0-9+/=]+) *$/i.exec(header);
  if (match === null) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
