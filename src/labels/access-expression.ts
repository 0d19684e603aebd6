import { EnclaveError } from '../errors/index.js';

/**
 * Apache Accumulo access expressions (need-to-know), e.g. `A&(B|C)` or `"a b"&C`, parsed exactly by the ABNF of
 * accumulo-access SPECIFICATION.md: `&` and `|` never mix without parentheses, no whitespace, unquoted tokens are
 * `[A-Za-z0-9_\-.:/]+`, quoted tokens escape only `"` and `\`. Like Accumulo's default AuthorizationValidator,
 * quoted tokens may not hold control characters, U+FFFD or unassigned code points.
 */
export type AccessNode = { kind: 'token'; value: string } | { kind: 'and' | 'or'; children: AccessNode[] };

/** Longer expressions are refused before parsing, so a hostile header cannot make us spend time. */
export const MAX_ACCESS_LENGTH = 2048;

const UNQUOTED = /[A-Za-z0-9_\-.:/]/;
const UNQUOTED_TOKEN = /^[A-Za-z0-9_\-.:/]+$/;
// Same rejection set as Accumulo's DEFAULT validator (isISOControl, !isDefined, U+FFFD), plus lone surrogates
// (with the u flag \p{Cs} matches only unpaired ones), which cannot be encoded as UTF-8.
const FORBIDDEN_IN_TOKEN = /[\p{Cc}\p{Cn}\p{Cs}\uFFFD]/u;

const fail = (message: string): never => {
  throw new EnclaveError('invalid_label', `Invalid access expression: ${message}.`, { param: 'access' });
};

class Parser {
  private pos = 0;
  constructor(private readonly text: string) {}

  parse(): AccessNode {
    const node = this.expression();
    if (this.pos < this.text.length) this.unexpected();
    return node;
  }

  private expression(): AccessNode {
    const first = this.term();
    const op = this.text[this.pos];
    if (op !== '&' && op !== '|') return first;
    const children = [first];
    while (this.text[this.pos] === op) {
      this.pos++;
      children.push(this.term());
    }
    const next = this.text[this.pos];
    if (next === '&' || next === '|') {
      fail(`'&' and '|' cannot be mixed without parentheses (position ${this.pos})`);
    }
    return { kind: op === '&' ? 'and' : 'or', children };
  }

  private term(): AccessNode {
    const c = this.text[this.pos];
    if (c === '(') {
      this.pos++;
      const inner = this.expression();
      if (this.text[this.pos] !== ')') this.unexpected("')'");
      this.pos++;
      return inner;
    }
    if (c === '"') return { kind: 'token', value: this.quoted() };
    const start = this.pos;
    while (this.pos < this.text.length && UNQUOTED.test(this.text[this.pos] ?? '')) this.pos++;
    if (this.pos === start) this.unexpected('an authorization or (');
    return { kind: 'token', value: this.text.slice(start, this.pos) };
  }

  private quoted(): string {
    const start = this.pos++;
    let value = '';
    for (;;) {
      const c = this.text[this.pos];
      if (c === undefined) fail(`unterminated quoted authorization starting at position ${start}`);
      this.pos++;
      if (c === '"') break;
      if (c === '\\') {
        const escaped = this.text[this.pos++];
        if (escaped !== '"' && escaped !== '\\') {
          fail(`only \\" and \\\\ may be escaped in a quoted authorization (position ${this.pos - 1})`);
        }
        value += escaped;
      } else value += c;
    }
    if (value === '') fail(`empty quoted authorization at position ${start}`);
    if (FORBIDDEN_IN_TOKEN.test(value)) {
      fail(`quoted authorization at position ${start} holds a control or invalid character`);
    }
    return value;
  }

  private unexpected(expected?: string): never {
    const c = this.text[this.pos];
    const found = c === undefined ? 'end of expression' : `'${c === '\n' ? '\\n' : c}'`;
    return fail(`unexpected ${found} at position ${this.pos}${expected ? `, expected ${expected}` : ''}`);
  }
}

/** Parses an access expression; the empty expression (always true) is `null`. */
export function parseAccessExpression(text: string): AccessNode | null {
  if (text.length > MAX_ACCESS_LENGTH) fail(`longer than ${MAX_ACCESS_LENGTH} characters`);
  if (text === '') return null;
  return new Parser(text).parse();
}

/** Accumulo evaluation: a token is true when it is among the authorizations. */
export function evaluateAccess(node: AccessNode | null, has: (token: string) => boolean): boolean {
  if (node === null) return true;
  if (node.kind === 'token') return has(node.value);
  return node.kind === 'and'
    ? node.children.every((c) => evaluateAccess(c, has))
    : node.children.some((c) => evaluateAccess(c, has));
}

/** Quotes a token only when Accumulo requires it. */
export const quoteToken = (token: string): string =>
  UNQUOTED_TOKEN.test(token) ? token : `"${token.replace(/[\\"]/g, '\\$&')}"`;
