/**
 * Re-reading `--web.config.file` while the agent runs, as exporter-toolkit and Prometheus do: when the file
 * or a certificate it names changes (fs.watch on their directories, which also sees Kubernetes' atomic
 * Secret updates, a symlink swap; and a poll, for filesystems where fs.watch says nothing), and on SIGHUP
 * (the CLI calls `reload`). A file that no longer parses keeps the old config, says so in the log and in
 * irisflame_web_config_last_reload_successful (0), Prometheus's own name for its config reloads.
 */
import { createHash } from 'node:crypto';
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import { Gauge, type Registry } from 'prom-client';
import { loadWebConfig, type WebConfig } from './web-config.js';

/** Poll period: the fallback when fs.watch misses a change (NFS, some overlay setups). */
const POLL_INTERVAL_MS = 5_000;
/** fs.watch fires several events per write: one reload after they settle. */
const SETTLE_MS = 200;

export interface WebConfigWatcher {
  /** Re-read now (SIGHUP); true when the new config is in use. */
  reload(reason: string): boolean;
  stop(): void;
}

export function watchWebConfig(options: {
  path: string;
  initial: WebConfig;
  apply: (config: WebConfig) => void;
  registry: Registry;
  log: (line: string) => void;
}): WebConfigWatcher {
  const registers = [options.registry];
  const successful = new Gauge({ name: 'irisflame_web_config_last_reload_successful', help: 'Whether the last --web.config.file (re)load succeeded (0: the previous config is still in use).', registers });
  const successTime = new Gauge({ name: 'irisflame_web_config_last_reload_success_timestamp_seconds', help: 'When --web.config.file was last loaded successfully, Unix seconds.', registers });
  successful.set(1);
  successTime.set(Date.now() / 1000);

  let files = options.initial.files;
  let fingerprint = fingerprintOf(files);
  let lastError: string | undefined;

  const reload = (reason: string): boolean => {
    // Taken before reading: a file changed again while being read is seen as changed by the next check.
    const seen = fingerprintOf(files);
    let config: WebConfig;
    try {
      config = loadWebConfig(options.path);
      options.apply(config);
    } catch (error) {
      const message = (error as Error).message.split('\n')[0]!;
      fingerprint = seen; // the same broken content is not retried every poll
      successful.set(0);
      if (message !== lastError) options.log(`web config not reloaded (${reason}), keeping the previous one: ${message}`);
      lastError = message;
      return false;
    }
    fingerprint = config.files.join('\0') === files.join('\0') ? seen : fingerprintOf(config.files);
    files = config.files;
    lastError = undefined;
    successful.set(1);
    successTime.set(Date.now() / 1000);
    options.log(`web config reloaded (${reason}): ${config.tls ? 'TLS' : 'no TLS'}, ${config.users.size} basic auth user(s)`);
    rewatch();
    return true;
  };

  const checkForChange = (reason: string): void => {
    if (fingerprintOf(files) !== fingerprint) reload(reason);
  };

  let settle: NodeJS.Timeout | undefined;
  let watchers: FSWatcher[] = [];
  const rewatch = (): void => {
    for (const watcher of watchers) watcher.close();
    watchers = [];
    for (const directory of new Set(files.map((file) => dirname(file)))) {
      try {
        const watcher = watch(directory, () => {
          clearTimeout(settle);
          settle = setTimeout(() => checkForChange('file changed'), SETTLE_MS);
        });
        watcher.on('error', () => watcher.close());
        watchers.push(watcher);
      } catch {
        // the poll still sees changes
      }
    }
  };
  rewatch();
  const poll = setInterval(() => checkForChange('file changed, seen by the poll'), POLL_INTERVAL_MS);
  poll.unref();

  return {
    reload,
    stop() {
      clearInterval(poll);
      clearTimeout(settle);
      for (const watcher of watchers) watcher.close();
    },
  };
}

/** A digest of the files' contents ("missing" for one that cannot be read). */
function fingerprintOf(files: string[]): string {
  const hash = createHash('sha256');
  for (const file of files) {
    try {
      hash.update(readFileSync(file));
    } catch {
      hash.update('missing');
    }
    hash.update('\0');
  }
  return hash.digest('hex');
}
