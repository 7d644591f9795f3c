/**
 * Making any frame name safe to show: stack keys hold raw bytes (latin1 strings) that may be invalid
 * UTF-8, contain XML 1.0's forbidden control characters, or markup (`<script>`, `]]>`, quotes). Names
 * are decoded as UTF-8 (invalid sequences become U+FFFD), forbidden characters become U+FFFD too, and
 * the result is escaped for the place it goes: text content or a double-quoted attribute.
 */

const NON_ASCII = /[\u0080-\u00ff]/;
// XML 1.0 allows #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]: everything
// else (C0 controls, lone surrogates, U+FFFE/U+FFFF) cannot appear even as a character reference.
const XML_FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const REPLACEMENT = '\ufffd';

/** A stack key's bytes (latin1 string) as the text a person should see. */
export function displayName(latin1: string): string {
  const decoded = NON_ASCII.test(latin1) ? Buffer.from(latin1, 'latin1').toString('utf8') : latin1;
  return decoded.replace(XML_FORBIDDEN, REPLACEMENT);
}

/** Memoised `displayName`: a graph repeats the same names many times. */
export class DisplayNames {
  private readonly cache = new Map<string, string>();
  get(latin1: string): string {
    let name = this.cache.get(latin1);
    if (name === undefined) {
      name = displayName(latin1);
      this.cache.set(latin1, name);
    }
    return name;
  }
}

/** Any string (a title, a note) with XML-forbidden characters replaced. */
export function xmlSafe(text: string): string {
  return text.replace(XML_FORBIDDEN, REPLACEMENT);
}

const TEXT_SPECIAL = /[&<>]/;
const ATTRIBUTE_SPECIAL = /[&<>"\t\n\r]/;

/** Escape for element content (`]]>` cannot survive either: its `>` is escaped). */
export function escapeText(text: string): string {
  if (!TEXT_SPECIAL.test(text)) return text;
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Escape for a double-quoted attribute value; whitespace other than space kept as references. */
export function escapeAttribute(text: string): string {
  if (!ATTRIBUTE_SPECIAL.test(text)) return text;
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/\t/g, '&#9;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;');
}

/** Content for a `<![CDATA[ … ]]>` section: a `]]>` inside is split across two sections. */
export function cdataSafe(text: string): string {
  return xmlSafe(text).replaceAll(']]>', ']]]]><![CDATA[>');
}

/** Text for an XML comment: `--` is not allowed inside one, nor a trailing `-`. */
export function commentSafe(text: string): string {
  return xmlSafe(text).replace(/-(?=-)/g, '- ').replace(/-$/, '- ');
}

/** JSON for an embedded script: `<`, `>`, `&` escaped so no markup (or CDATA end) can form, and the two
 * line separators JavaScript strings once rejected. */
export function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}
