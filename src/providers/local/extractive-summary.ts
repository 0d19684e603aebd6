/**
 * A deterministic extractive summary: the sentences whose content words are most frequent across the
 * whole text, kept in their original order. It invents nothing, so it is safe to label and audit like the
 * source, and it needs no model. Also usable by compaction when only the offline model is configured.
 */

const stopWords = new Set(
  (
    'a an and are as at be been but by can could did do does for from had has have he her his how i if in into is it ' +
    'its me my no not of on or our she so that the their them then there these they this to too us was we were what ' +
    'when where which who why will with would you your yes ok okay just also about than very'
  ).split(' '),
);

const words = (sentence: string): string[] =>
  (sentence.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).filter((w) => w.length > 2 && !stopWords.has(w));

/** Splits on sentence ends and line breaks; keeps each sentence's own punctuation. */
export function splitSentences(text: string): string[] {
  return text
    .split(/(?<=[.!?])\s+|\n+/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export function extractiveSummary(texts: readonly string[], maxSentences = 3): string {
  const sentences = texts.flatMap(splitSentences);
  if (sentences.length <= maxSentences) return sentences.join(' ');
  const frequency = new Map<string, number>();
  for (const sentence of sentences)
    for (const w of words(sentence)) frequency.set(w, (frequency.get(w) ?? 0) + 1);
  const scored = sentences.map((sentence, index) => {
    const ws = words(sentence);
    // Mean rather than sum, so long sentences do not win by length alone; +1 keeps one-word lines from topping.
    const score = ws.reduce((sum, w) => sum + (frequency.get(w) ?? 0), 0) / (ws.length + 1);
    return { sentence, index, score };
  });
  const chosen = [...scored]
    .sort((a, b) => b.score - a.score || a.index - b.index)
    .slice(0, maxSentences)
    .sort((a, b) => a.index - b.index);
  return chosen.map((c) => c.sentence).join(' ');
}
