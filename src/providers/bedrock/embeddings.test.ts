import { afterAll, beforeAll, expect, it } from 'vitest';
import { canonicalLabel, parseBanner } from '../../labels/index.js';
import { offlineExtractor } from '../../memory/extract/offline-extractor.js';
import { createMemoryService } from '../../memory/memory-service.js';
import { fakeAwsCredentials } from '../../../test/support/mock-bedrock.js';
import {
  startMockBedrockEmbeddings,
  type MockBedrockEmbeddings,
} from '../../../test/support/mock-bedrock-embeddings.js';
import { describeStore, uniqueId } from '../../../test/support/stores.js';
import { bedrockEmbedder } from './embeddings.js';

/** The mock's notion of meaning: texts about cars point one way, about fruit another, the rest a third. */
const vectorOf = (text: string): number[] =>
  /\b(car|cars|automobile|sedan)\b/iu.test(text)
    ? [1, 0.1, 0]
    : /\b(banana|fruit|mango)\b/iu.test(text)
      ? [0.1, 1, 0]
      : [0, 0, 1];

let mock: MockBedrockEmbeddings;
beforeAll(async () => {
  mock = await startMockBedrockEmbeddings(vectorOf);
});
afterAll(() => mock.close());

const embedder = () =>
  bedrockEmbedder({
    region: 'us-east-1',
    endpoint: mock.url,
    credentials: fakeAwsCredentials,
    dimensions: 256,
  });

it('asks Titan Text Embeddings v2 for one normalised vector per text, answers in input order', async () => {
  mock.received.length = 0;
  const vectors = await embedder().embed(['a banana', 'my sedan', 'nothing', 'fruit salad', 'cars']);
  expect(vectors.map((v) => [...v])).toEqual(
    ['a banana', 'my sedan', 'nothing', 'fruit salad', 'cars'].map((t) => [
      ...Float32Array.from(vectorOf(t)),
    ]),
  );
  expect(mock.received).toHaveLength(5);
  expect(mock.received[0]).toEqual({
    modelId: 'amazon.titan-embed-text-v2:0',
    body: { inputText: expect.any(String) as string, dimensions: 256, normalize: true },
  });
  expect(mock.received.map((r) => r.body.inputText).sort()).toEqual([
    'a banana',
    'cars',
    'fruit salad',
    'my sedan',
    'nothing',
  ]);
});

it('reports a rejected request (HTTP 400) as a non-retryable upstream error naming the endpoint', async () => {
  const broken = bedrockEmbedder({
    region: 'us-east-1',
    endpoint: `${mock.url}/not-bedrock`,
    credentials: fakeAwsCredentials,
  });
  await expect(broken.embed(['x'])).rejects.toMatchObject({
    name: 'UpstreamError',
    retryable: false,
    message: expect.stringContaining('bedrock/amazon.titan-embed-text-v2:0') as string,
  });
});

describeStore('memory recall with Bedrock embeddings', (store) => {
  it('finds by meaning what BM25 cannot find by words (hybrid recall uses the vectors)', async () => {
    const s = store();
    const tenantId = uniqueId('t');
    await s.tenants.ensure(tenantId);
    const unclass = await s.labels.ensure(canonicalLabel(parseBanner('UNCLASSIFIED')));
    const owner = { tenantId, userId: 'u1', agentId: '' };
    const reader = { scope: { tenantId, labelIds: [unclass] }, userId: 'u1', agentId: '' };
    const withVectors = createMemoryService({
      store: s,
      extractor: offlineExtractor(),
      embedder: embedder(),
    });
    for (const text of [
      'I drive an automobile to the office.',
      'My favourite snack is a mango.',
      'Tuesday is busy.',
    ])
      await withVectors.write({
        owner,
        kind: 'fact',
        text,
        conversationId: null,
        validFrom: 0,
        sources: [],
        labelId: unclass,
      });

    mock.received.length = 0;
    const hits = await withVectors.recall(reader, 'sedan', { k: 2 });
    expect(hits[0]?.record.text).toBe('I drive an automobile to the office.');
    // The query itself was embedded (no word of it is in any record, so BM25 alone finds nothing).
    expect(mock.received.map((r) => r.body.inputText)).toEqual(['sedan']);
    const lexical = createMemoryService({ store: s, extractor: offlineExtractor() });
    expect(await lexical.recall(reader, 'sedan', { k: 2 })).toEqual([]);
  });
});
