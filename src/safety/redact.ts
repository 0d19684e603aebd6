import type { Span, Verdict } from './verdict.js';

/** Merged, sorted spans of every category the verdict names (only detector evidence carries spans). */
export function redactableSpans(verdict: Verdict): Span[] {
  const spans = verdict.categories
    .flatMap((c) => c.spans ?? [])
    .sort((a, b) => a.start - b.start || b.end - a.end);
  const merged: Span[] = [];
  for (const s of spans) {
    const last = merged[merged.length - 1];
    if (last && s.start < last.end) last.end = Math.max(last.end, s.end);
    else merged.push({ ...s });
  }
  return merged;
}

/**
 * Replaces each span named by the verdict with `[REDACTED:<kind>]`, keeping the rest of the text, so a
 * reader still sees that something (and what kind of thing) was there. `offset` maps spans of a longer text
 * onto a slice of it (used by the stream guard).
 */
export function redact(text: string, verdict: Verdict, offset = 0): string {
  let out = '';
  let at = 0;
  for (const s of redactableSpans(verdict)) {
    const start = s.start - offset;
    const end = s.end - offset;
    if (end <= 0 || start >= text.length) continue;
    out += text.slice(at, Math.max(start, at)) + `[REDACTED:${s.kind}]`;
    at = Math.min(Math.max(end, at), text.length);
  }
  return out + text.slice(at);
}
