const DAY = 86_400_000;
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

/** "7 May 2023" (UTC): how an event's date is written into its memory text. */
export function formatDay(at: number): string {
  const d = new Date(at);
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
}

/**
 * Resolves the common relative time phrases of chat ("yesterday", "last week") against when the
 * sentence was said, so "I went yesterday" is remembered with a real date. Unknown phrases → undefined.
 */
export function resolveRelativeDate(
  sentence: string,
  said: number,
): { at: number; label: string } | undefined {
  const s = sentence.toLowerCase();
  const day = (offset: number) => ({ at: said + offset * DAY, label: formatDay(said + offset * DAY) });
  if (/\byesterday\b/u.test(s)) return day(-1);
  if (/\b(today|this morning|tonight|earlier today)\b/u.test(s)) return day(0);
  if (/\blast (week|weekend)\b/u.test(s))
    return { at: said - 7 * DAY, label: `the week before ${formatDay(said)}` };
  if (/\blast month\b/u.test(s)) return { at: said - 30 * DAY, label: `the month before ${formatDay(said)}` };
  if (/\blast year\b/u.test(s)) {
    const y = new Date(said).getUTCFullYear() - 1;
    return { at: Date.UTC(y, 0, 1), label: String(y) };
  }
  const ago = s.match(/\b(\d+|a|one|two|three|four|five|six) (day|week|month|year)s? ago\b/u);
  if (ago) {
    const n = ago[1] === 'a' || ago[1] === 'one' ? 1 : (WORDS[ago[1] ?? ''] ?? Number(ago[1]));
    const unit = { day: DAY, week: 7 * DAY, month: 30 * DAY, year: 365 * DAY }[ago[2] as 'day'];
    return day(-(n * unit) / DAY);
  }
  return undefined;
}

const WORDS: Record<string, number> = { two: 2, three: 3, four: 4, five: 5, six: 6 };
