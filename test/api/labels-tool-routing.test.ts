import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMcpHttpServer } from '../support/mcp-test-server.js';
import { startMockOpenAI, type MockOpenAI } from '../support/mock-openai.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { auditEntries, classified, statusOf } from './labels-support.js';

/**
 * Tool output joins the turn's label before any endpoint is chosen: a turn that may call a SECRET MCP server is
 * routed as SECRET from its first model call, so the SECRET output it brings back mid-turn never reaches an
 * endpoint accredited lower. The mocks count every request: the unaccredited one must see none.
 */
describe('accredited routing with labelled tool output', () => {
  let publicMock: MockOpenAI;
  let secretMock: MockOpenAI;
  let server: TestServer;
  let client: OpenAI;
  let mcp: Awaited<ReturnType<typeof startMcpHttpServer>>;

  beforeAll(async () => {
    [publicMock, secretMock] = await Promise.all([startMockOpenAI(), startMockOpenAI()]);
    mcp = await startMcpHttpServer();
    server = await startTestServer({
      configFile: {
        models: {
          endpoints: [
            { id: 'openai/public', model: 'mock-1', baseUrl: publicMock.url, fallback: ['openai/secret'] },
            { id: 'openai/public-only', model: 'mock-1', baseUrl: publicMock.url },
            {
              id: 'openai/secret',
              model: 'mock-1',
              baseUrl: secretMock.url,
              accreditation: { label: 'SECRET' },
            },
          ],
        },
        tools: {
          mcp_servers: {
            open: { url: mcp.url, require_approval: 'never', label: 'UNCLASSIFIED' },
            vault: { url: mcp.url, require_approval: 'never', label: 'SECRET' },
          },
        },
      },
    });
    client = new OpenAI({
      baseURL: `${server.baseUrl}/v1`,
      apiKey: await server.key({ clearance: 'SECRET' }),
      maxRetries: 0,
    });
  });
  afterAll(async () => {
    await server.close();
    await mcp.close();
    await Promise.all([publicMock.close(), secretMock.close()]);
  });

  const counts = () => ({
    public: publicMock.chatRequests().length,
    secret: secretMock.chatRequests().length,
  });
  const addCall = (server: string) => ({
    kind: 'tool_calls' as const,
    calls: [{ id: `c-${server}`, name: `mcp_${server}_add`, arguments: '{"a":20,"b":22}' }],
  });

  it('keeps an UNCLASSIFIED turn with an UNCLASSIFIED tool on the public endpoint', async () => {
    publicMock.queue(addCall('open'));
    const before = counts();
    const r = await client.responses.create(
      {
        model: 'openai/public',
        input: 'add',
        tools: [{ type: 'mcp', server_label: 'open', require_approval: 'never' }],
      },
      classified('UNCLASSIFIED'),
    );
    expect(r.status).toBe('completed');
    expect((r as unknown as { label: string }).label).toBe('UNCLASSIFIED');
    expect(counts()).toEqual({ public: before.public + 2, secret: before.secret });
  });

  it('routes a turn that may call a SECRET tool past the public endpoint, for every model call', async () => {
    secretMock.queue(addCall('vault'));
    const before = counts();
    const r = await client.responses.create(
      {
        model: 'openai/public',
        input: 'add',
        tools: [{ type: 'mcp', server_label: 'vault', require_approval: 'never' }],
      },
      classified('UNCLASSIFIED'),
    );
    expect(r.status).toBe('completed');
    const output = r.output as unknown as { type: string; output?: string }[];
    expect(output.find((o) => o.type === 'mcp_call')?.output).toBe('42');
    expect((r as unknown as { label: string }).label).toBe('SECRET');
    // Both model calls (before and after the tool's SECRET output) went to the accredited endpoint only.
    expect(counts()).toEqual({ public: before.public, secret: before.secret + 2 });
  });

  it('labels an unlabelled tool turn with the caller’s default (its clearance), not the tool’s lower label', async () => {
    secretMock.queue(addCall('open'));
    const before = counts();
    // No Enclave-Classification: the SECRET-cleared caller's request is SECRET (system-high), tool or no tool.
    const r = await client.responses.create({
      model: 'openai/public',
      input: 'add',
      tools: [{ type: 'mcp', server_label: 'open', require_approval: 'never' }],
    });
    expect(r.status).toBe('completed');
    expect((r as unknown as { label: string }).label).toBe('SECRET');
    expect(counts()).toEqual({ public: before.public, secret: before.secret + 2 });
  });

  it('refuses with 403 when no endpoint of the chain is accredited, contacting none', async () => {
    const before = counts();
    const refused = client.responses.create(
      {
        model: 'openai/public-only',
        input: 'add',
        tools: [{ type: 'mcp', server_label: 'vault', require_approval: 'never' }],
      },
      classified('UNCLASSIFIED'),
    );
    expect(await statusOf(refused)).toBe(403);
    expect(counts()).toEqual(before);
    expect(await auditEntries(server)).toContainEqual(
      expect.objectContaining({
        type: 'access.deny',
        rule: 'routing.not_accredited',
        sessionLabel: 'SECRET',
      }),
    );
  });
});
