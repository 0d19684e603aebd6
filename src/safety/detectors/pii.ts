import { ibanValid, luhnValid, ssnValid } from './checksums.js';
import { scan, type Finding } from './finding.js';

const pii = (kind: string, m: RegExpExecArray, score: number, offset = 0, length = m[0].length): Finding => ({
  category: 'pii',
  kind,
  start: m.index + offset,
  end: m.index + offset + length,
  score,
});

/** Personal data with structure checks (Luhn, mod-97, SSA rules), so order numbers and dates do not match. */
export function detectPii(text: string): Finding[] {
  // Cheap gates: every pattern below needs an '@' or a minimum number of digits.
  let digits = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
  }
  const email = text.includes('@');
  if (!email && digits < 2) return [];
  return [
    ...(!email
      ? []
      : scan(text, /\b[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,24}\b/, (m) =>
          pii('email', m, 0.9),
        )),
    ...(digits < 13
      ? []
      : scan(text, /\b(?:\d[ -]?){12,18}\d\b/, (m) => {
          const digits = m[0].replace(/\D/g, '');
          if (digits.length < 13 || digits.length > 19 || !/^[3-6]/.test(digits) || !luhnValid(digits))
            return undefined;
          return pii('credit_card', m, 0.97);
        })),
    ...scan(text, /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b/, (m) =>
      ibanValid(m[0]) ? pii('iban', m, 0.97) : undefined,
    ),
    ...(digits < 9
      ? []
      : scan(text, /\b(\d{3})-(\d{2})-(\d{4})\b/, (m) =>
          ssnValid(m[1] ?? '', m[2] ?? '', m[3] ?? '') ? pii('us_ssn', m, 0.9) : undefined,
        )),
    ...(digits < 9
      ? []
      : scan(text, /\b(?:SSN|social security(?: number)?)\D{0,12}(\d{9})\b/i, (m) => {
          const d = m[1] ?? '';
          const at = m[0].length - d.length;
          return ssnValid(d.slice(0, 3), d.slice(3, 5), d.slice(5))
            ? pii('us_ssn', m, 0.9, at, d.length)
            : undefined;
        })),
    // International (+CC …) or North American (NXX) NXX-XXXX numbers with separators; bare digit runs are
    // left alone because they are usually ids, amounts or dates.
    ...(digits < 10
      ? []
      : scan(
          text,
          /(?<![\w+])(?:\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]\d{2,4}){2,4}|\(?[2-9]\d{2}\)?[ .-]\d{3}[ .-]\d{4})(?![\w-])/,
          (m) => {
            const digits = m[0].replace(/\D/g, '');
            return digits.length >= 10 && digits.length <= 15 ? pii('phone', m, 0.8) : undefined;
          },
        )),
  ];
}
