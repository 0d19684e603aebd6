/**
 * Reads ../shared/datasets/locomo-dev (CC BY-NC 4.0, evaluation only: never copied into the repo, never
 * used to train shipped weights) into the CLI's JSONL shapes: turns `{session,id,speaker,text,time}` and
 * questions `{id,query}` with their evidence turn ids.
 */
import { readFileSync } from 'node:fs';

export interface LocomoTurn {
  session: string;
  id: string;
  speaker: string;
  text: string;
  time: string;
}
export interface LocomoQuestion {
  id: string;
  query: string;
  category: number;
  evidence: string[];
}
export interface LocomoConversation {
  sampleId: string;
  turns: LocomoTurn[];
  questions: LocomoQuestion[];
}

export const locomoPath = (): string =>
  process.env.LOCOMO_FILE ??
  new URL('../../../shared/datasets/locomo-dev/locomo-dev.json', import.meta.url).pathname;

const MONTHS = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];

/** "1:56 pm on 8 May, 2023" → ISO time (UTC). */
export function parseLocomoDate(text: string): string | undefined {
  const m = text.match(/(\d{1,2}):(\d{2})\s*(am|pm)\s+on\s+(\d{1,2})\s+([A-Za-z]+),?\s+(\d{4})/iu);
  if (!m) return undefined;
  const month = MONTHS.indexOf((m[5] ?? '').toLowerCase());
  if (month < 0) return undefined;
  const hour = (Number(m[1]) % 12) + ((m[3] ?? '').toLowerCase() === 'pm' ? 12 : 0);
  return new Date(Date.UTC(Number(m[6]), month, Number(m[4]), hour, Number(m[2]))).toISOString();
}

/** Evidence ids as written ("D8:6; D9:17", "D:11:26") normalised to "D8:6". */
const evidenceIds = (raw: unknown): string[] =>
  (Array.isArray(raw) ? raw : [])
    .flatMap((x) => String(x).split(/[;,\s]+/u))
    .map((x) => x.replace(/^D:/u, 'D'))
    .filter((x) => /^D\d+:\d+$/u.test(x));

export function loadLocomo(path = locomoPath()): LocomoConversation[] {
  const raw = JSON.parse(readFileSync(path, 'utf8')) as {
    sample_id: string;
    conversation: Record<string, unknown>;
    qa: { question: string; category: number; evidence?: unknown }[];
  }[];
  return raw.map((sample) => {
    const c = sample.conversation;
    const sessions = Object.keys(c)
      .filter((k) => /^session_\d+$/u.test(k))
      .sort((a, b) => Number(a.slice(8)) - Number(b.slice(8)));
    const turns: LocomoTurn[] = [];
    for (const key of sessions) {
      const time = parseLocomoDate(String(c[`${key}_date_time`] ?? '')) ?? '';
      for (const t of c[key] as { speaker: string; dia_id: string; text: string; blip_caption?: string }[]) {
        // A shared photo is part of what was said: its caption is the turn's only description of it.
        const text = t.blip_caption ? `${t.text} [shares a photo: ${t.blip_caption}]` : t.text;
        turns.push({ session: key.slice(8), id: t.dia_id, speaker: t.speaker, text, time });
      }
    }
    const questions = sample.qa
      .map((q, i) => ({
        id: `${sample.sample_id}#${i}`,
        query: q.question,
        category: q.category,
        evidence: evidenceIds(q.evidence),
      }))
      .filter((q) => q.evidence.length > 0);
    return { sampleId: sample.sample_id, turns, questions };
  });
}
