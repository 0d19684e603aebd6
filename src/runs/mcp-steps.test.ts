import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mcpTestServerPath, startMcpHttpServer, type Ledger } from '../../test/support/mcp-test-server.js';
import type { AuditEntry } from '../audit/audit-entry.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { toolsConfigSchema } from '../tools/mcp/mcp-config.js';
import type { McpCallItem, McpListToolsItem } from '../tools/mcp/mcp-items.js';
import { createMcpToolset, resolveMcpServers } from '../tools/mcp/mcp-toolset.js';
import { listMcpToolsStep, mcpCallStep } from './mcp-steps.js';
import { createRunService } from './run-service.js';

let dir: string;
let store: Store;
let http: Awaited<ReturnType<typeof startMcpHttpServer>>;
const ledgerFile = () => join(dir, 'stdio-ledger.jsonl');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'enclave-mcp-'));
  store = await openStore({ dataDir: dir });
  http = await startMcpHttpServer();
});
afterAll(async () => {
  await http.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const config = () =>
  toolsConfigSchema.parse({
    mcp_servers: {
      local: {
        command: process.execPath,
        args: ['--import', 'tsx', mcpTestServerPath],
        env: { MCP_LEDGER: ledgerFile() },
        require_approval: { never: { tool_names: ['add', 'fails'] } },
        label: 'SECRET//TOOLS',
      },
    },
    allowed_server_urls: [http.url.replace(/mcp$/, '')],
  });

const stdioLedger = (): Ledger =>
  existsSync(ledgerFile())
    ? readFileSync(ledgerFile(), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Ledger[number])
    : [];

describe('MCP tool configuration', () => {
  it('allows only administrator-approved server URLs in requests', () => {
    expect(() =>
      resolveMcpServers(config(), [
        { type: 'mcp', server_label: 'x', server_url: 'http://evil.example/mcp' },
      ]),
    ).toThrow(/not allowed/);
    expect(() => resolveMcpServers(config(), [{ type: 'mcp', server_label: 'nope' }])).toThrow(
      /No MCP server 'nope'/,
    );
    const [remote] = resolveMcpServers(config(), [
      { type: 'mcp', server_label: 'remote', server_url: http.url, require_approval: 'never' },
    ]);
    expect(remote).toMatchObject({ url: http.url, outputLabel: 'UNCLASSIFIED' });
    // A request may add approvals to a configured server but never remove them.
    const [local] = resolveMcpServers(config(), [
      { type: 'mcp', server_label: 'local', require_approval: 'never' },
    ]);
    const toolset = createMcpToolset([local!]);
    expect(toolset.needsApproval('local', 'add')).toBe(false);
    expect(toolset.needsApproval('local', 'delete_record')).toBe(true);
  });
});

for (const transport of ['stdio', 'http'] as const) {
  describe(`MCP tools in durable runs over ${transport}`, () => {
    const tools = () =>
      transport === 'stdio'
        ? [{ type: 'mcp', server_label: 'local' }]
        : [
            {
              type: 'mcp',
              server_label: 'remote',
              server_url: http.url,
              require_approval: { never: { tool_names: ['add', 'fails'] } },
            },
          ];
    const label = transport === 'stdio' ? 'local' : 'remote';
    const ledger = () => (transport === 'stdio' ? stdioLedger() : http.ledger);

    it('lists tools, calls one, and gates a destructive one on a human approval (approve, then reject)', async () => {
      const audit: AuditEntry[] = [];
      const service = createRunService({
        store,
        audit: { append: async (e) => audit.push(e) },
        leaseMs: 2_000,
        pollMs: 20,
        handlers: {
          agent: async (ctx) => {
            const toolset = createMcpToolset(resolveMcpServers(config(), tools()));
            try {
              const list: McpListToolsItem = await listMcpToolsStep(ctx, toolset, label);
              const call = (name: string, args: unknown) =>
                mcpCallStep(
                  ctx,
                  toolset,
                  {
                    serverLabel: label,
                    name,
                    arguments: JSON.stringify(args),
                    contextLabel: 'UNCLASSIFIED',
                    principal: 'key_owner',
                  },
                  { append: async (e) => audit.push(e) },
                );
              const items: McpCallItem[] = [];
              items.push(await call('add', { a: 2, b: 3 }));
              items.push(await call('fails', {}));
              items.push(await call('delete_record', { id: 'r1' }));
              items.push(await call('delete_record', { id: 'r2' }));
              return { output: { list, items } };
            } finally {
              await toolset.close();
            }
          },
        },
      });
      await service.start();
      try {
        const runId = `resp_mcp_${transport}_${Date.now()}`;
        const labelId = await store.labels.ensure('UNCLASSIFIED');
        const scope = { tenantId: 'tm', labelIds: [labelId] };
        await service.submit({
          id: runId,
          tenantId: 'tm',
          kind: 'agent',
          labelId,
          input: { principal: 'key_owner' },
        });
        const waitFor = async (status: string) => {
          for (let i = 0; i < 1500; i++) {
            const r = await store.runs.byId(runId);
            if (r?.status === status) return r;
            if (r && ['failed', 'cancelled'].includes(r.status))
              throw new Error(`run ${r.status}: ${JSON.stringify(r.error)}`);
            await new Promise((res) => setTimeout(res, 10));
          }
          throw new Error(`never ${status}`);
        };
        await waitFor('requires_action');
        const [first] = await store.approvals.listPending(scope);
        expect(first).toMatchObject({
          source: 'mcp',
          serverLabel: label,
          toolName: 'delete_record',
          arguments: '{"id":"r1"}',
        });
        expect(ledger().map((e) => e.tool)).toEqual(['add']);
        await service.decide({
          tenantId: 'tm',
          scope,
          approvalId: first!.id,
          approve: true,
          principal: 'rev',
          role: 'reviewer',
          label: 'UNCLASSIFIED',
        });
        for (let i = 0; i < 1500 && (await store.approvals.listPending(scope)).length === 0; i++)
          await new Promise((r) => setTimeout(r, 10));
        const [second] = await store.approvals.listPending(scope);
        await service.decide({
          tenantId: 'tm',
          scope,
          approvalId: second!.id,
          approve: false,
          principal: 'rev',
          role: 'reviewer',
          reason: 'not this one',
          label: 'UNCLASSIFIED',
        });
        const run = await waitFor('completed');
        const out = run.output as { list: McpListToolsItem; items: McpCallItem[] };
        expect(out.list.tools.map((t) => t.name).sort()).toEqual(['add', 'delete_record', 'fails', 'sleep']);
        const [add, fails, approved, rejected] = out.items;
        expect(add).toMatchObject({ type: 'mcp_call', output: '5', error: null, approval_request_id: null });
        expect(fails).toMatchObject({ output: null, error: 'tool exploded', status: 'failed' });
        expect(approved).toMatchObject({ output: 'deleted r1', approval_request_id: first!.id });
        expect(rejected).toMatchObject({ output: null, approval_request_id: second!.id });
        expect(rejected?.error).toMatch(/rejected by rev: not this one/);
        expect(add?.label).toBe(transport === 'stdio' ? 'SECRET//TOOLS' : 'UNCLASSIFIED');
        // Each effect ran exactly once even though the run was re-executed after each approval.
        expect(ledger().map((e) => e.tool)).toEqual(['add', 'delete_record']);
        expect(audit.filter((e) => e.type === 'tool.call').map((e) => e.detail?.tool)).toEqual([
          'add',
          'fails',
          'delete_record',
        ]);
        expect(audit.filter((e) => e.type === 'approval.decision').map((e) => e.decision)).toEqual([
          'allow',
          'deny',
        ]);
      } finally {
        await service.stop(500);
      }
    });
  });
}
