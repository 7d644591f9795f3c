/**
 * A strict XML 1.0 well-formedness check for our SVGs (xmlbuilder2's parser is lenient: it accepts
 * unbalanced tags and control characters, so it cannot judge). Covers what a flame graph can contain:
 * prolog, comments, CDATA, DOCTYPE, elements, attributes, entity and character references. Returns the
 * first problem, or undefined when the document is well-formed. Also lists the document's elements and
 * attributes so tests can look for injected scripts and event handlers.
 */

export interface XmlSummary {
  /** Element names in document order. */
  elements: string[];
  /** Every attribute, as `element@name=value`. */
  attributes: { element: string; name: string; value: string }[];
}

const NAME = /^[A-Za-z_:][\w.:-]*/;
const LEGAL_CHAR = /^[\t\n\r\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]*$/u;
const REFERENCE = /^&(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);/;

export function checkXml(xml: string): { error?: string; summary: XmlSummary } {
  const summary: XmlSummary = { elements: [], attributes: [] };
  const fail = (message: string, at: number): { error: string; summary: XmlSummary } => ({
    error: `${message} at offset ${at}: ${JSON.stringify(xml.slice(Math.max(0, at - 30), at + 30))}`,
    summary,
  });
  if (!LEGAL_CHAR.test(xml)) {
    const bad = [...xml].findIndex((c) => !LEGAL_CHAR.test(c));
    return fail('character not allowed in XML 1.0', bad);
  }
  const stack: string[] = [];
  let rootSeen = false;
  let i = 0;
  if (xml.startsWith('<?xml')) {
    const end = xml.indexOf('?>');
    if (end === -1) return fail('unterminated XML declaration', 0);
    i = end + 2;
  }
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    const text = xml.slice(i, lt === -1 ? xml.length : lt);
    const textError = checkText(text);
    if (textError !== undefined) return fail(textError, i);
    if (stack.length === 0 && text.trim() !== '') return fail('text outside the root element', i);
    if (lt === -1) break;
    i = lt;
    if (xml.startsWith('<!--', i)) {
      const end = xml.indexOf('-->', i + 4);
      if (end === -1) return fail('unterminated comment', i);
      const body = xml.slice(i + 4, end);
      if (body.includes('--') || body.endsWith('-')) return fail('"--" inside a comment', i);
      i = end + 3;
    } else if (xml.startsWith('<![CDATA[', i)) {
      if (stack.length === 0) return fail('CDATA outside the root element', i);
      const end = xml.indexOf(']]>', i + 9);
      if (end === -1) return fail('unterminated CDATA section', i);
      i = end + 3;
    } else if (xml.startsWith('<!DOCTYPE', i)) {
      if (rootSeen || stack.length > 0) return fail('DOCTYPE after the root element', i);
      const end = xml.indexOf('>', i);
      if (end === -1) return fail('unterminated DOCTYPE', i);
      i = end + 1;
    } else if (xml.startsWith('<?', i)) {
      const end = xml.indexOf('?>', i);
      if (end === -1) return fail('unterminated processing instruction', i);
      i = end + 2;
    } else if (xml.startsWith('</', i)) {
      const name = NAME.exec(xml.slice(i + 2))?.[0];
      if (!name) return fail('bad end tag', i);
      const close = i + 2 + name.length;
      const end = xml.indexOf('>', close);
      if (end === -1 || xml.slice(close, end).trim() !== '') return fail('bad end tag', i);
      if (stack.pop() !== name) return fail(`end tag </${name}> does not match`, i);
      i = end + 1;
    } else {
      const name = NAME.exec(xml.slice(i + 1))?.[0];
      if (!name) return fail('bad start tag', i);
      if (stack.length === 0 && rootSeen) return fail('second root element', i);
      rootSeen = true;
      summary.elements.push(name);
      let j = i + 1 + name.length;
      const seen = new Set<string>();
      for (;;) {
        const space = /^\s*/.exec(xml.slice(j, j + 200))![0].length;
        j += space;
        if (xml.startsWith('/>', j)) {
          j += 2;
          break;
        }
        if (xml[j] === '>') {
          stack.push(name);
          j += 1;
          break;
        }
        if (space === 0) return fail('attributes must be separated by whitespace', j);
        const attribute = NAME.exec(xml.slice(j, j + 200))?.[0];
        if (!attribute) return fail('bad attribute', j);
        if (seen.has(attribute)) return fail(`duplicate attribute ${attribute}`, j);
        seen.add(attribute);
        j += attribute.length;
        const eq = /^\s*=\s*(["'])/.exec(xml.slice(j, j + 200));
        if (!eq) return fail('attribute without a quoted value', j);
        j += eq[0].length;
        const close = xml.indexOf(eq[1]!, j);
        if (close === -1) return fail('unterminated attribute value', j);
        const value = xml.slice(j, close);
        if (value.includes('<')) return fail('"<" in an attribute value', j);
        const valueError = checkReferences(value);
        if (valueError !== undefined) return fail(valueError, j);
        summary.attributes.push({ element: name, name: attribute, value });
        j = close + 1;
      }
      i = j;
    }
  }
  if (stack.length > 0) return fail(`unclosed element <${stack[stack.length - 1]}>`, xml.length);
  if (!rootSeen) return fail('no root element', 0);
  return { summary };
}

function checkText(text: string): string | undefined {
  if (text.includes(']]>')) return '"]]>" in text';
  return checkReferences(text);
}

function checkReferences(text: string): string | undefined {
  let at = text.indexOf('&');
  while (at !== -1) {
    const match = REFERENCE.exec(text.slice(at, at + 12));
    if (!match) return 'bare "&"';
    const code = /^&#(x?)([0-9a-fA-F]+);/.exec(match[0]);
    if (code) {
      const value = parseInt(code[2]!, code[1] ? 16 : 10);
      if (!LEGAL_CHAR.test(String.fromCodePoint(Math.min(value, 0x10ffff))) || value > 0x10ffff) {
        return 'character reference to a character not allowed in XML';
      }
    }
    at = text.indexOf('&', at + 1);
  }
  return undefined;
}
