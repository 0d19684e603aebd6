import { afterAll, beforeAll, expect, it } from 'vitest';
import { canonicalLabel, parseBanner } from '../labels/index.js';
import { offlineExtractor } from '../memory/extract/offline-extractor.js';
import { memoryConfigSchema } from '../memory/memory-config.js';
import { createMemoryService } from '../memory/memory-service.js';
import { fakeAwsCredentials } from '../../test/support/mock-bedrock.js';
import {
  startMockBedrockEmbeddings,
  type MockBedrockEmbeddings,
} from '../../test/support/mock-bedrock-embeddings.js';
import { describeStore, uniqueId } from '../../test/support/stores.js';
import { embedderFor } from './embeddings-wiring.js';

let mock: MockBedrockEmbeddings;
beforeAll(async () => {
  mock = await startMockBedrockEmbeddings((text) => [text.length % 7, 1, 0]);
});
afterAll(() => mock.close());

/** The SDK's standard credential chain reads these (the mock does not check signatures). */
const env = {
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: fakeAwsCredentials.accessKeyId,
  AWS_SECRET_ACCESS_KEY: fakeAwsCredentials.secretAccessKey,
};
const configured = (extra: Record<string, unknown> = {}) =>
  memoryConfigSchema.parse({
    enabled: true,
    embeddings: { provider: 'bedrock', endpoint: mock.url, ...extra },
  }).embeddings;

describeStore(
  'memory.embeddings: Bedrock selected in the memory config, accredited like a model endpoint',
  (store) => {
    it('embeds only what its accreditation admits (default UNCLASSIFIED), and recalls with the vectors', async () => {
      Object.assign(process.env, env);
      const s = store();
      const tenantId = uniqueId('t');
      await s.tenants.ensure(tenantId);
      const unclass = await s.labels.ensure(canonicalLabel(parseBanner('UNCLASSIFIED')));
      const secret = await s.labels.ensure(canonicalLabel(parseBanner('SECRET')));
      const config = configured();
      expect(config).toMatchObject({
        provider: 'bedrock',
        model: 'amazon.titan-embed-text-v2:0',
        dimensions: 1024,
      });
      const embedder = embedderFor(config, s.labels, env);
      expect(await embedder?.admits?.([unclass])).toBe(true);
      expect(await embedder?.admits?.([unclass, secret])).toBe(false);
      expect(await embedder?.admits?.(['lbl_unknown'])).toBe(false);
      expect(
        await embedderFor(configured({ accreditation: { label: 'SECRET' } }), s.labels, env)?.admits?.([
          secret,
        ]),
      ).toBe(true);

      const memory = createMemoryService({ store: s, extractor: offlineExtractor(), embedder });
      const owner = { tenantId, userId: 'u1', agentId: '' };
      mock.received.length = 0;
      const write = (text: string, labelId: string) =>
        memory.write({ owner, kind: 'fact', text, conversationId: null, validFrom: 0, sources: [], labelId });
      await write('The picnic is at the lake.', unclass);
      await write('The launch code word is PELICAN.', secret);
      const sent = mock.received.map((r) => r.body.inputText);
      expect(sent).toEqual(['The picnic is at the lake.']);
      expect(mock.received[0]?.body).toMatchObject({ dimensions: 1024, normalize: true });

      // An UNCLASSIFIED reader's query is embedded; a SECRET reader's is not (BM25 alone), yet still answered.
      mock.received.length = 0;
      const low = await memory.recall(
        { scope: { tenantId, labelIds: [unclass] }, userId: 'u1', agentId: '' },
        'picnic lake',
        {
          k: 3,
        },
      );
      expect(low[0]?.record.text).toBe('The picnic is at the lake.');
      expect(mock.received.map((r) => r.body.inputText)).toEqual(['picnic lake']);
      mock.received.length = 0;
      const high = await memory.recall(
        { scope: { tenantId, labelIds: [unclass, secret] }, userId: 'u1', agentId: '' },
        'launch code word',
        { k: 3 },
      );
      expect(high[0]?.record.text).toBe('The launch code word is PELICAN.');
      expect(mock.received).toEqual([]);
    });
  },
);
