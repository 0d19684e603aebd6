import { GateSet, gatePasses, scan, type Finding } from './finding.js';

interface Template {
  kind: string;
  pattern: RegExp;
  score: number;
  gate?: readonly string[];
}

const IGNORE = String.raw`(?:ignore|disregard|forget|override|bypass|skip)`;
const PRIOR = String.raw`(?:all |any |the |your |my )*(?:previous|prior|above|earlier|preceding|original|initial|system|developer)`;
const RULES = String.raw`(?:instructions?|prompts?|rules|directions|guidelines|directives|commands|context|messages?)`;

/**
 * Known direct jailbreak / prompt-injection templates (DAN-style personas, "ignore previous instructions",
 * system-prompt extraction, fake chat-markup). Written as phrases, not single words, so "ignore the warnings
 * in my build log" or "act as a tour guide" do not match.
 */
const direct: readonly Template[] = [
  {
    kind: 'ignore_previous',
    gate: ['ignore', 'disregard', 'forget', 'override', 'bypass', 'skip'],
    pattern: new RegExp(String.raw`\b${IGNORE}\s+${PRIOR}\s+${RULES}`, 'i'),
    score: 0.93,
  },
  {
    kind: 'ignore_everything',
    gate: ['ignore', 'disregard', 'forget'],
    pattern:
      /\b(?:ignore|disregard|forget) (?:everything|all) (?:(?:that )?(?:you(?:'ve| have)? (?:been told|were told|read))|(?:said |written )?(?:above|before))/i,
    score: 0.9,
  },
  {
    kind: 'dan',
    gate: [
      'do anything now',
      'stand for',
      'stands for',
      'jailbr',
      'no restrictions',
      'no filters',
      'no limits',
    ],
    pattern:
      /\b(?:DAN|STAN|DUDE|AIM|BetterDAN|AntiGPT|DevMode)\b[^.\n]{0,80}\b(?:do anything now|stands? for|jailbr(?:oken|eak)|no (?:restrictions|filters|limits))|\bdo anything now\b/i,
    score: 0.95,
  },
  {
    kind: 'developer_mode',
    gate: ['mode'],
    pattern:
      /\b(?:developer|god|jailbreak|unrestricted|unfiltered|evil) mode\b(?: (?:enabled|activated|on))?/i,
    score: 0.85,
  },
  {
    kind: 'no_restrictions',
    gate: ['you have no', 'you are under no', 'without any', 'free from', 'free of', 'bound by'],
    pattern:
      /\b(?:you (?:have|are under) no|without any|free (?:from|of) (?:all|any)|not bound by (?:any)?|no longer bound by)\s+(?:\w+\s+){0,2}(?:restrictions|filters|guidelines|rules|limitations|censorship|ethical (?:constraints|guidelines)|content polic(?:y|ies))/i,
    score: 0.85,
  },
  {
    kind: 'pretend_unfiltered',
    gate: ['pretend', 'imagine', 'act as if', 'roleplay as', 'you are now'],
    pattern:
      /\b(?:pretend|imagine|act as if|roleplay as|you are now)\b[^.\n]{0,60}\b(?:no (?:rules|restrictions|filters|limits|morals)|unfiltered|uncensored|amoral|jailbroken|never refuses?)/i,
    score: 0.88,
  },
  {
    kind: 'system_prompt_extraction',
    gate: [
      'system prompt',
      'initial prompt',
      'initial instructions',
      'hidden prompt',
      'hidden instructions',
      'preprompt',
      'pre-prompt',
      'secret instructions',
      'secret password',
      'access code',
    ],
    pattern:
      /\b(?:reveal|print|show|repeat|output|leak|tell me|what (?:is|are)|display)\b[^.\n]{0,30}\b(?:your|the) (?:system prompt|initial (?:prompt|instructions)|hidden (?:prompt|instructions)|pre-?prompt|secret (?:instructions|password)|access code)/i,
    score: 0.8,
  },
  {
    kind: 'fake_chat_markup',
    gate: ['<|im_start|>', '[inst]', '[/inst]', '<|start_header_id|>', '##'],
    pattern:
      /<\|im_start\|>\s*system|\[\/?INST\]|<\|start_header_id\|>\s*system|^\s*#{2,}\s*(?:system|new instructions?)\s*:?\s*$/im,
    score: 0.85,
  },
  {
    kind: 'new_instructions',
    gate: ['new instructions', 'new rules', 'new task', 'new directive'],
    pattern: /\b(?:your )?new (?:instructions|rules|task|directive) (?:are|is)\s*:/i,
    score: 0.75,
  },
  {
    kind: 'refusal_suppression',
    gate: ['refuse', 'apologi', 'add '],
    pattern:
      /\b(?:never|do not|don't) (?:refuse|apologi[sz]e|add (?:any )?(?:warnings|disclaimers))\b[^.\n]{0,40}\b(?:whatever|no matter|any (?:request|question))/i,
    score: 0.75,
  },
];

/**
 * Indirect-injection cues: text inside a tool result or retrieved document addressing the assistant, steering
 * its answer, or asking it to exfiltrate. Applied only on untrusted surfaces, where the user did not write them.
 */
const indirect: readonly Template[] = [
  {
    kind: 'addresses_assistant',
    gate: [
      'ignore',
      'disregard',
      'forget',
      'you must',
      'you should',
      'you are required',
      'make sure',
      'now',
      'instead',
    ],
    pattern:
      /\b(?:AI|assistant|chatbot|language model|LLM|GPT|Claude|agent)\b[,:]?\s+(?:please\s+)?(?:ignore|disregard|forget|you must|you should|you are required|make sure|now|instead)\b/i,
    score: 0.85,
  },
  {
    kind: 'steer_response',
    gate: ['response', 'answer', 'reply', 'output', 'summary', 'code', 'algorithm', 'solution'],
    pattern:
      /\b(?:in|into|within|to|at the (?:end|beginning) of) (?:your|the) (?:response|answer|reply|output|summary|code(?: implementation)?|algorithm|solution)\b/i,
    score: 0.8,
  },
  {
    kind: 'hide_from_user',
    gate: ['the user'],
    pattern:
      /\b(?:do not|don't|never) (?:tell|inform|mention (?:this )?to|reveal (?:this )?to|alert) the user\b/i,
    score: 0.9,
  },
  {
    kind: 'exfiltrate',
    gate: ['conversation', 'chat history', 'credentials', 'password', 'api key', 'token', "the user's"],
    pattern:
      /\b(?:send|forward|post|upload|email|leak)\b[^.\n]{0,40}\b(?:conversation|chat history|credentials|passwords?|api keys?|tokens?|the user's (?:data|files|emails?|details))\b[^.\n]{0,40}\b(?:to|at)\b/i,
    score: 0.85,
  },
  {
    kind: 'when_you_read',
    gate: ['read this', 'process this', 'summarise this', 'summarize this', 'see this', 'parse this'],
    pattern:
      /\b(?:when|if|once) (?:you|the (?:AI|assistant|model)) (?:read|process|summari[sz]e|see|parse) this\b/i,
    score: 0.85,
  },
];

export function detectJailbreak(
  text: string,
  untrusted: boolean,
  present = gates.present(text.toLowerCase()),
): Finding[] {
  const out: Finding[] = [];
  const templates = untrusted ? [...direct, ...indirect] : direct;
  for (const t of templates) {
    if (!gatePasses(present, t.gate)) continue;
    out.push(
      ...scan(text, t.pattern, (m) => ({
        category: 'prompt_injection',
        kind: `${untrusted && indirect.includes(t) ? 'indirect' : 'jailbreak'}:${t.kind}`,
        start: m.index,
        end: m.index + m[0].length,
        score: t.score,
      })),
    );
  }
  return out;
}

/** This detector's gate literals (detect() finds every detector's literals in one pass instead). */
export const gates = new GateSet([...direct, ...indirect].map((t) => t.gate));
