import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/config.js';
import { modelsConfigSchema, resolveModels } from './models-config.js';
import { ModelRegistry, providerFactories } from './registry.js';

const known = Object.keys(providerFactories);
const resolve = (section: unknown, env: NodeJS.ProcessEnv = {}) =>
  resolveModels(modelsConfigSchema.parse(section), env, known);
const ids = (section: unknown, env: NodeJS.ProcessEnv = {}) =>
  resolve(section, env).endpoints.map((e) => e.id);

describe('models config', () => {
  it('defaults to local/echo alone with no config and no provider environment', () => {
    expect(ids({})).toEqual(['local/echo']);
    const [echo] = resolve({}).endpoints;
    expect(echo).toMatchObject({
      provider: 'local',
      model: 'echo',
      timeoutMs: 60_000,
      retries: 1,
      fallback: [],
    });
  });

  it('adds openai endpoints only when OPENAI_API_KEY or OPENAI_BASE_URL is set', () => {
    expect(ids({}, { OPENAI_API_KEY: 'sk-x' })).toEqual(['local/echo', 'openai/gpt-4.1-mini']);
    expect(
      ids({}, { OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1', ENCLAVE_OPENAI_MODELS: 'llama3.1, qwen2.5' }),
    ).toEqual(['local/echo', 'openai/llama3.1', 'openai/qwen2.5']);
    expect(resolve({}, { OPENAI_API_KEY: 'sk-x' }).endpoints[1]?.contextWindow).toBe(1_047_576);
    expect(ids({}, { ENCLAVE_BEDROCK_MODELS: 'amazon.nova-lite-v1:0' })).toEqual([
      'local/echo',
      'bedrock/amazon.nova-lite-v1:0',
    ]);
  });

  it('uses exactly the configured endpoints (plus local/echo), with per-endpoint settings', () => {
    const resolved = resolve(
      {
        defaults: { retries: 3, timeoutMs: 1000 },
        endpoints: [
          {
            id: 'openai/fast',
            model: 'gpt-4.1-nano',
            contextWindow: 5000,
            retries: 0,
            fallback: ['bedrock/claude'],
          },
          {
            id: 'bedrock/claude',
            model: 'anthropic.claude-3-haiku',
            region: 'eu-west-1',
            accreditation: { label: 'SECRET' },
          },
          { id: 'vllm/llama', provider: 'openai', baseUrl: 'http://10.0.0.5:8000/v1', apiKeyEnv: 'VLLM_KEY' },
        ],
      },
      { OPENAI_API_KEY: 'sk-x' },
    );
    expect(resolved.endpoints.map((e) => e.id)).toEqual([
      'local/echo',
      'openai/fast',
      'bedrock/claude',
      'vllm/llama',
    ]);
    expect(resolved.endpoints[1]).toMatchObject({
      provider: 'openai',
      model: 'gpt-4.1-nano',
      contextWindow: 5000,
      retries: 0,
      timeoutMs: 1000,
    });
    expect(resolved.endpoints[2]).toMatchObject({
      retries: 3,
      accreditation: { label: 'SECRET', compartments: [] },
      contextWindow: 200_000,
    });
    expect(resolved.endpoints[3]).toMatchObject({ provider: 'openai', model: 'llama' });
  });

  it('rejects unknown providers, unknown fallbacks, duplicates and unknown keys, naming the place', () => {
    expect(() => ids({ endpoints: [{ id: 'acme/x' }] })).toThrow(/unknown provider 'acme'/);
    expect(() => ids({ endpoints: [{ id: 'openai/x', fallback: ['openai/y'] }] })).toThrow(
      /unknown endpoint 'openai\/y'/,
    );
    expect(() => ids({ endpoints: [{ id: 'openai/x' }, { id: 'openai/x' }] })).toThrow(/duplicate/);
    expect(
      modelsConfigSchema.safeParse({ endpoints: [{ id: 'openai/x', apiKey: 'sk-inline' }] }).success,
    ).toBe(false);
    expect(modelsConfigSchema.safeParse({ endpoints: [{ id: 'no-slash' }] }).success).toBe(false);
  });

  it('reads the models section of the config file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'enclave-models-'));
    const file = join(dir, 'config.json');
    writeFileSync(
      file,
      JSON.stringify({ models: { endpoints: [{ id: 'local/demo', contextWindow: 4096 }] } }),
    );
    const registry = ModelRegistry.fromConfig(loadConfig({ dataDir: dir }, { ENCLAVE_CONFIG: file }), {});
    expect(registry.listModels()).toEqual([
      { id: 'local/echo', provider: 'local', contextWindow: 32_768 },
      { id: 'local/demo', provider: 'local', contextWindow: 4096 },
    ]);
    writeFileSync(file, JSON.stringify({ models: { endpoints: [{ id: 'openai/x', retries: -1 }] } }));
    expect(() =>
      ModelRegistry.fromConfig(loadConfig({ dataDir: dir }, { ENCLAVE_CONFIG: file }), {}),
    ).toThrow(/Invalid config at models\.endpoints\.0\.retries/);
  });
});
