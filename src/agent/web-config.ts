/**
 * `--web.config.file`: the web configuration file of Prometheus's exporter-toolkit (node_exporter and every
 * exporter built on it), same keys, same meaning, so one file and one habit serve all of a node's exporters.
 * Supported (docs/agent.md, "Securing the listener"):
 *
 *   tls_server_config: cert_file | cert, key_file | key, client_auth_type, client_ca_file, client_allowed_sans,
 *                      min_version, max_version, cipher_suites, curve_preferences, prefer_server_cipher_suites
 *   http_server_config: headers (the five exporter-toolkit allows), http2 (accepted; Node serves HTTP/1.1)
 *   basic_auth_users: user -> bcrypt hash ($2a$, $2b$, $2y$)
 *
 * Anything else is refused by name: a misspelt key silently ignored would leave the agent open. Relative
 * paths are relative to the file's directory, as in exporter-toolkit. The files named are read here, so a
 * missing certificate is a start-up (or reload) error, not a failed handshake later.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { SecureContextOptions, SecureVersion } from 'node:tls';
import { parse as parseYaml } from 'yaml';
import { UsageError } from '../errors.js';

/** exporter-toolkit's client_auth_type values (Go's tls.ClientAuthType names). */
export const CLIENT_AUTH_TYPES = ['NoClientCert', 'RequestClientCert', 'RequireAnyClientCert', 'VerifyClientCertIfGiven', 'RequireAndVerifyClientCert'] as const;
export type ClientAuthType = (typeof CLIENT_AUTH_TYPES)[number];

const TLS_VERSIONS: Record<string, SecureVersion> = { TLS10: 'TLSv1', TLS11: 'TLSv1.1', TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' };

/** Go's cipher suite names (crypto/tls) -> OpenSSL's. Go applies the list to TLS 1.2 and below only. */
const CIPHER_SUITES: Record<string, string> = {
  TLS_RSA_WITH_AES_128_CBC_SHA: 'AES128-SHA',
  TLS_RSA_WITH_AES_256_CBC_SHA: 'AES256-SHA',
  TLS_RSA_WITH_AES_128_GCM_SHA256: 'AES128-GCM-SHA256',
  TLS_RSA_WITH_AES_256_GCM_SHA384: 'AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305: 'ECDHE-RSA-CHACHA20-POLY1305',
};
/** TLS 1.3's suites, which Go does not let cipher_suites restrict: kept whatever the list says. */
const TLS13_SUITES = 'TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256';
const CURVES: Record<string, string> = { CurveP256: 'P-256', CurveP384: 'P-384', CurveP521: 'P-521', X25519: 'X25519' };

/** The response headers exporter-toolkit lets http_server_config.headers set. */
const ALLOWED_HEADERS = ['Strict-Transport-Security', 'X-Content-Type-Options', 'X-Frame-Options', 'X-XSS-Protection', 'Content-Security-Policy'];

/** A bcrypt hash as Go's x/crypto/bcrypt and bcryptjs read it: version, cost, 22 salt + 31 hash characters. */
const BCRYPT_HASH = /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/;

export interface TlsSettings {
  /** What node:tls's createSecureContext / setSecureContext take: cert, key, ca, versions, ciphers. */
  context: SecureContextOptions;
  clientAuth: ClientAuthType;
  /** client_allowed_sans: a client certificate must carry one of these SANs (empty: any). */
  allowedSans: string[];
}

export interface WebConfig {
  /** The file it came from (for log lines). */
  path: string;
  tls: TlsSettings | undefined;
  /** user -> bcrypt hash; empty: no authentication. */
  users: Map<string, string>;
  /** Extra response headers (http_server_config.headers). */
  headers: Record<string, string>;
  /** Every file the config depends on (itself, certificates), for change detection. */
  files: string[];
}

/** Read and check `path`; a UsageError naming the file and the key on any problem. */
export function loadWebConfig(path: string): WebConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`--web.config.file ${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  return parseWebConfig(text, path);
}

/** Parse the YAML text of the file at `path` (relative paths inside are relative to its directory). */
export function parseWebConfig(text: string, path: string): WebConfig {
  const fail = (message: string): never => {
    throw new UsageError(`--web.config.file ${path}: ${message}`);
  };
  let document: unknown;
  try {
    document = parseYaml(text, { uniqueKeys: true });
  } catch (error) {
    fail(`not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  const top = mapping(document ?? {}, '(top level)', fail);
  onlyKeys(top, ['tls_server_config', 'http_server_config', 'basic_auth_users'], '', fail);
  const base = dirname(resolve(path));
  const files = [resolve(path)];
  const config: WebConfig = { path, tls: undefined, users: new Map(), headers: {}, files };

  if (top.tls_server_config != null) config.tls = tlsSettings(mapping(top.tls_server_config, 'tls_server_config', fail), base, files, fail);

  if (top.http_server_config != null) {
    const http = mapping(top.http_server_config, 'http_server_config', fail);
    onlyKeys(http, ['http2', 'headers'], 'http_server_config.', fail);
    if (http.http2 != null && typeof http.http2 !== 'boolean') fail('http_server_config.http2 must be true or false');
    if (http.headers != null) {
      for (const [name, value] of Object.entries(mapping(http.headers, 'http_server_config.headers', fail))) {
        const canonical = ALLOWED_HEADERS.find((allowed) => allowed.toLowerCase() === name.toLowerCase());
        if (canonical === undefined) fail(`http_server_config.headers.${name} is not allowed (allowed: ${ALLOWED_HEADERS.join(', ')})`);
        if (typeof value !== 'string' || /[\r\n]/.test(value)) fail(`http_server_config.headers.${name} must be a one-line string`);
        config.headers[canonical!] = value as string;
      }
    }
  }

  if (top.basic_auth_users != null) {
    for (const [user, hash] of Object.entries(mapping(top.basic_auth_users, 'basic_auth_users', fail))) {
      if (user.includes(':')) fail(`basic_auth_users.${user}: a user name cannot contain ":"`);
      if (typeof hash !== 'string' || !BCRYPT_HASH.test(hash)) {
        fail(`basic_auth_users.${user} is not a bcrypt hash ($2y$10$ followed by 53 characters; make one with htpasswd -nBC 10 "" | tr -d ':\\n')`);
      }
      config.users.set(user, hash as string);
    }
  }
  return config;
}

function tlsSettings(tls: Record<string, unknown>, base: string, files: string[], fail: (message: string) => never): TlsSettings {
  const keys = ['cert_file', 'key_file', 'cert', 'key', 'client_auth_type', 'client_ca_file', 'client_allowed_sans', 'min_version', 'max_version', 'cipher_suites', 'curve_preferences', 'prefer_server_cipher_suites'];
  onlyKeys(tls, keys, 'tls_server_config.', fail);
  const text = (key: string): string | undefined => {
    const value = tls[key];
    if (value == null || value === '') return undefined;
    if (typeof value !== 'string') fail(`tls_server_config.${key} must be a string`);
    return value as string;
  };
  const readPem = (key: string): Buffer | undefined => {
    const name = text(key);
    if (name === undefined) return undefined;
    const file = resolve(base, name);
    files.push(file);
    try {
      return readFileSync(file);
    } catch (error) {
      return fail(`tls_server_config.${key}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    }
  };
  const pem = (fileKey: string, inlineKey: string, what: string): Buffer => {
    if (text(fileKey) !== undefined && text(inlineKey) !== undefined) fail(`tls_server_config: give ${fileKey} or ${inlineKey}, not both`);
    const value = readPem(fileKey) ?? (text(inlineKey) === undefined ? undefined : Buffer.from(text(inlineKey)!));
    if (value === undefined) fail(`tls_server_config needs ${fileKey} (the ${what})`);
    return value!;
  };
  const cert = pem('cert_file', 'cert', 'server certificate');
  const key = pem('key_file', 'key', 'private key');
  const ca = readPem('client_ca_file');

  const authName = text('client_auth_type') ?? (ca !== undefined ? 'RequireAndVerifyClientCert' : 'NoClientCert');
  if (!(CLIENT_AUTH_TYPES as readonly string[]).includes(authName)) {
    fail(`tls_server_config.client_auth_type ${JSON.stringify(authName)} is not one of ${CLIENT_AUTH_TYPES.join(', ')}`);
  }
  const clientAuth = authName as ClientAuthType;
  if ((clientAuth === 'VerifyClientCertIfGiven' || clientAuth === 'RequireAndVerifyClientCert') && ca === undefined) {
    fail(`tls_server_config.client_auth_type ${clientAuth} needs client_ca_file`);
  }

  const version = (key: string, fallback: string): SecureVersion => {
    const name = text(key) ?? fallback;
    const value = TLS_VERSIONS[name];
    if (value === undefined) fail(`tls_server_config.${key} ${JSON.stringify(name)} is not one of ${Object.keys(TLS_VERSIONS).join(', ')}`);
    return value!;
  };
  // exporter-toolkit's defaults: TLS 1.2 at least, 1.3 at most.
  const minVersion = version('min_version', 'TLS12');
  const maxVersion = version('max_version', 'TLS13');
  if (minVersion > maxVersion) fail('tls_server_config.min_version is above max_version');

  const context: SecureContextOptions = { cert, key, minVersion, maxVersion };
  if (ca !== undefined) context.ca = ca;
  const suites = list(tls.cipher_suites, 'cipher_suites', fail);
  if (suites.length > 0) {
    const names = suites.map((suite) => CIPHER_SUITES[suite] ?? fail(`tls_server_config.cipher_suites: unknown or unsupported suite ${suite}`));
    context.ciphers = `${TLS13_SUITES}:${names.join(':')}`;
  }
  const curves = list(tls.curve_preferences, 'curve_preferences', fail);
  if (curves.length > 0) {
    context.ecdhCurve = curves.map((curve) => CURVES[curve] ?? fail(`tls_server_config.curve_preferences: unknown curve ${curve} (${Object.keys(CURVES).join(', ')})`)).join(':');
  }
  if (tls.prefer_server_cipher_suites != null) {
    if (typeof tls.prefer_server_cipher_suites !== 'boolean') fail('tls_server_config.prefer_server_cipher_suites must be true or false');
    context.honorCipherOrder = tls.prefer_server_cipher_suites as boolean;
  }
  return { context, clientAuth, allowedSans: list(tls.client_allowed_sans, 'client_allowed_sans', fail) };
}

function mapping(value: unknown, where: string, fail: (message: string) => never): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(`${where} must be a mapping of keys to values`);
  return value as Record<string, unknown>;
}

function list(value: unknown, key: string, fail: (message: string) => never): string[] {
  if (value == null) return [];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) fail(`tls_server_config.${key} must be a list of strings`);
  return value as string[];
}

function onlyKeys(object: Record<string, unknown>, allowed: string[], prefix: string, fail: (message: string) => never): void {
  for (const key of Object.keys(object)) {
    if (!allowed.includes(key)) fail(`unknown key ${prefix}${key} (supported here: ${allowed.join(", ")})`);
  }
}
