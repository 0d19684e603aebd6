import { GateSet, gatePasses, scan, type Finding } from './finding.js';

interface SecretPattern {
  kind: string;
  pattern: RegExp;
  score: number;
  gate?: readonly string[];
}

/**
 * Credential formats with a distinctive prefix or structure, so a match is rarely anything else.
 * Generic high-entropy strings are deliberately not matched: hashes and ids in code would drown the signal.
 */
const patterns: readonly SecretPattern[] = [
  {
    kind: 'private_key',
    gate: ['private key'],
    pattern:
      /-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY(?: BLOCK)?-----|$)/,
    score: 0.99,
  },
  {
    kind: 'aws_access_key',
    gate: ['akia', 'asia', 'agpa', 'aida', 'aroa', 'anpa', 'anva', 'aipa'],
    pattern: /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b/,
    score: 0.98,
  },
  {
    kind: 'aws_secret_key',
    gate: ['secret'],
    pattern: /\baws_?secret_?access_?key\b["']?\s*[:=]\s*["']?[A-Za-z0-9/+]{40}\b/i,
    score: 0.97,
  },
  {
    kind: 'github_token',
    gate: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_'],
    pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{60,255})\b/,
    score: 0.98,
  },
  { kind: 'gitlab_token', gate: ['glpat-'], pattern: /\bglpat-[A-Za-z0-9_-]{20}\b/, score: 0.97 },
  {
    kind: 'openai_key',
    gate: ['sk-'],
    pattern:
      /\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,}\b|\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,}\b/,
    score: 0.97,
  },
  {
    kind: 'anthropic_key',
    gate: ['sk-ant-'],
    pattern: /\bsk-ant-(?:api|admin)\d{2}-[A-Za-z0-9_-]{80,}\b/,
    score: 0.98,
  },
  { kind: 'slack_token', gate: ['xox'], pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,}\b/, score: 0.96 },
  { kind: 'stripe_key', gate: ['_live_'], pattern: /\b(?:sk|rk)_live_[A-Za-z0-9]{20,}\b/, score: 0.97 },
  { kind: 'google_api_key', gate: ['aiza'], pattern: /\bAIza[0-9A-Za-z_-]{35}\b/, score: 0.95 },
  {
    kind: 'jwt',
    gate: ['eyj'],
    pattern: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}\b/,
    score: 0.93,
  },
  {
    kind: 'connection_string_password',
    gate: ['://'],
    pattern: /\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:[^\s/@]{6,}@[\w.-]+/i,
    score: 0.9,
  },
  {
    kind: 'password_assignment',
    gate: ['password', 'passwd', 'pwd', 'secret', 'api_key', 'apikey', 'access_token', 'accesstoken'],
    pattern: /\b(?:password|passwd|pwd|secret|api_?key|access_?token)\b["']?\s*[:=]\s*["'][^"'\s]{8,}["']/i,
    score: 0.8,
  },
];

export function detectSecrets(text: string, present = gates.present(text.toLowerCase())): Finding[] {
  const out: Finding[] = [];
  for (const p of patterns) {
    if (!gatePasses(present, p.gate)) continue;
    out.push(
      ...scan(text, p.pattern, (m) => ({
        category: 'secrets',
        kind: p.kind,
        start: m.index,
        end: m.index + m[0].length,
        score: p.score,
      })),
    );
  }
  return out;
}

/** This detector's gate literals (detect() finds every detector's literals in one pass instead). */
export const gates = new GateSet(patterns.map((t) => t.gate));
