/**
 * A minimal XML writer: elements, attributes, text, comments and CDATA, every value escaped on the way
 * in, element and attribute names checked. It writes the document around the frames (svg.ts).
 *
 * Why not xmlbuilder2 (the dependency first chosen): importing it costs 175-250 ms of CPU per run on
 * this machine (measured 2026-11-25, Node 20), three times flamegraph.pl's whole run on a 120-stack
 * profile (about 60 ms), and building 200k frames with it took 13.0 s plus 7.6 s to serialise and
 * 1.86 GB. The document has a fixed, small shape; this writer is all it needs.
 */
import { cdataSafe, commentSafe, escapeAttribute, escapeText, xmlSafe } from './xml.js';

export type Attributes = Record<string, string | number | undefined>;

const NAME = /^[A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?$/;

export class XmlWriter {
  private readonly parts: string[] = [];
  private readonly open: string[] = [];

  /** `<?xml version="1.0" encoding="…" standalone="no"?>`; `encoding` must be checked by the caller. */
  declaration(encoding: string | undefined): this {
    const declared = encoding === undefined ? '' : ` encoding="${escapeAttribute(encoding)}"`;
    this.parts.push(`<?xml version="1.0"${declared} standalone="no"?>\n`);
    return this;
  }

  start(name: string, attributes: Attributes = {}): this {
    this.parts.push(`<${checkName(name)}${formatAttributes(attributes)}>`);
    this.open.push(name);
    return this;
  }

  end(): this {
    const name = this.open.pop();
    if (name === undefined) throw new Error('XmlWriter: end() without an open element');
    this.parts.push(`</${name}>`);
    return this;
  }

  /** An element with only text (or nothing) inside. */
  element(name: string, attributes: Attributes = {}, text?: string): this {
    const open = `<${checkName(name)}${formatAttributes(attributes)}`;
    this.parts.push(text === undefined ? `${open}/>` : `${open}>${escapeText(xmlSafe(text))}</${name}>`);
    return this;
  }

  comment(text: string): this {
    this.parts.push(`<!--${commentSafe(text)}-->`);
    return this;
  }

  /** Text inside `<![CDATA[ … ]]>` (split where it contains `]]>`). */
  cdata(text: string): this {
    this.parts.push(`<![CDATA[${cdataSafe(text)}]]>`);
    return this;
  }

  newline(): this {
    this.parts.push('\n');
    return this;
  }

  /** What was written so far; elements still open stay open (the caller closes them later). */
  toString(): string {
    return this.parts.join('');
  }

  /** The closing tags of the elements still open, innermost first. */
  closing(): string {
    return [...this.open].reverse().map((name) => `</${name}>`).join('');
  }
}

function formatAttributes(attributes: Attributes): string {
  let text = '';
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined) continue;
    text += ` ${checkName(name)}="${escapeAttribute(xmlSafe(String(value)))}"`;
  }
  return text;
}

function checkName(name: string): string {
  if (!NAME.test(name)) throw new Error(`XmlWriter: not an XML name: ${JSON.stringify(name)}`);
  return name;
}
