import { describe, expect, it } from 'vitest';
import { EnclaveError } from '../../errors/index.js';
import { extractionSchema, llmExtractor, parseExtraction } from './llm-extractor.js';

const turns = [
  { id: 't1', speaker: 'Ana', text: 'I moved to Porto in March.', occurredAt: Date.UTC(2024, 3, 1) },
];

describe('LLM extractor', () => {
  it('sends the turns and the strict schema, and validates the answer', async () => {
    let seen: { prompt: string; schema: unknown } | undefined;
    // The model call is an injected dependency; this stands in for it and answers like a model would.
    const extractor = llmExtractor(async (prompt, schema) => {
      seen = { prompt, schema };
      return '```json\n{"memories":[{"kind":"fact","text":"Ana lives in Porto.","subject":"Ana","attribute":"lives in","value":"Porto","valid_from":"2024-03-01","source_ids":["t1","t9"]}]}\n```';
    });
    const drafts = await extractor.extract(turns);
    expect(seen?.schema).toBe(extractionSchema);
    expect(seen?.prompt).toContain('"id":"t1"');
    expect(drafts).toEqual([
      {
        kind: 'fact',
        text: 'Ana lives in Porto.',
        subject: 'Ana',
        attribute: 'lives in',
        value: 'Porto',
        validFrom: Date.UTC(2024, 2, 1),
        sourceIds: ['t1'],
      },
    ]);
  });

  it('drops memories citing no known turn and rejects answers off the schema', () => {
    const known = new Set(['t1']);
    const orphan =
      '{"memories":[{"kind":"plan","text":"x","subject":null,"attribute":null,"value":null,"valid_from":null,"source_ids":["zz"]}]}';
    expect(parseExtraction(orphan, known)).toEqual([]);
    expect(() => parseExtraction('not json', known)).toThrow(EnclaveError);
    expect(() => parseExtraction('{"memories":[{"kind":"rumour","text":"x"}]}', known)).toThrow(/schema/u);
  });
});
