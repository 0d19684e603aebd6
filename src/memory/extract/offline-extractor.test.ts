import { describe, expect, it } from 'vitest';
import { offlineExtractor } from './offline-extractor.js';
import { resolveRelativeDate } from './relative-date.js';

const said = Date.UTC(2023, 4, 8, 13, 56);

describe('offline extractor', () => {
  it('turns first-person statements into third-person memories with provenance', async () => {
    const drafts = await offlineExtractor().extract([
      {
        id: 'D1:3',
        speaker: 'Caroline',
        text: 'I went to a LGBTQ support group yesterday and it was so powerful.',
        occurredAt: said,
      },
      {
        id: 'D1:4',
        speaker: 'Mel',
        text: 'Nice! My favorite color is teal. I plan to paint the garage.',
        occurredAt: said,
      },
      { id: 'D1:5', speaker: 'Mel', text: 'Sounds good.', occurredAt: said },
    ]);
    expect(drafts).toEqual([
      expect.objectContaining({
        kind: 'event',
        text: 'Caroline went to a LGBTQ support group yesterday and it was so powerful (7 May 2023)',
        validFrom: said - 86_400_000,
        sourceIds: ['D1:3'],
      }),
      expect.objectContaining({
        kind: 'preference',
        subject: 'Mel',
        attribute: 'favorite color',
        value: 'teal',
        sourceIds: ['D1:4'],
      }),
      expect.objectContaining({ kind: 'plan', text: 'Mel plans to paint the garage', sourceIds: ['D1:4'] }),
    ]);
  });

  it('resolves relative dates against when the sentence was said', () => {
    expect(resolveRelativeDate('two weeks ago we met', said)?.label).toBe('24 April 2023');
    expect(resolveRelativeDate('last year I moved', said)?.label).toBe('2022');
    expect(resolveRelativeDate('we met in Paris', said)).toBeUndefined();
  });
});
