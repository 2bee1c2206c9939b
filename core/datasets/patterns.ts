/**
 * Content patterns in dataset text: prompt-injection / jailbreak phrasing and chat-template role
 * markers (DATA006), and shell commands, download-and-run code, obfuscated payloads and URLs to
 * unexpected hosts (DATA007). Cheap pre-filters keep the regular expressions off ordinary rows.
 */

export interface PatternHit { kind: string; at: number; match: string }

const INJECTION: Array<[string, RegExp]> = [
  ['ignore-instructions', /\b(?:ignore|disregard|forget|override)\s+(?:all\s+|any\s+|the\s+|your\s+|every\s+)*(?:previous|prior|above|earlier|preceding|system)\s+(?:instructions?|prompts?|rules|directions|messages)/i],
  ['new-instructions', /\b(?:new|updated|real)\s+(?:system\s+)?instructions?\s*:/i],
  ['jailbreak-persona', /\b(?:you\s+are\s+now\s+(?:DAN|in\s+developer\s+mode|jailbroken|unrestricted|an?\s+unfiltered)|do\s+anything\s+now|developer\s+mode\s+(?:enabled|output)|jailbreak(?:ed)?\s+mode)/i],
  ['no-restrictions', /\b(?:pretend|act\s+as\s+if|imagine)\s+(?:that\s+)?you\s+(?:have|had)\s+no\s+(?:restrictions|rules|filters|guidelines|limitations)/i],
  ['reveal-prompt', /\b(?:reveal|print|show|repeat|output)\s+(?:me\s+)?(?:your|the)\s+(?:hidden\s+|secret\s+|original\s+)?(?:system\s+prompt|initial\s+instructions|instructions\s+verbatim)/i],
  ['exfiltrate', /\b(?:send|post|upload|exfiltrate)\s+(?:all\s+)?(?:the\s+)?(?:conversation|chat\s+history|api\s+keys?|credentials|secrets|passwords)\s+to\b/i],
];

/** Chat-template control tokens and role headers inside a turn's text: a hidden turn (system prompt). */
const ROLE_MARKER = /<\|im_start\|>\s*(?:system|assistant|user)|<\|(?:system|assistant|user|start_header_id|begin_of_text)\|>|\[\/?INST\]|<<\/?SYS>>|^\s*###\s*(?:System|Instruction)\s*:|<start_of_turn>|<\/?system>/im;

const INJECTION_PREFILTER = /ignor|disregard|forget|overrid|instruction|you are now|anything now|developer mode|jailbr|pretend|act as if|imagine|reveal|system prompt|exfiltrat|send|upload|post /i;

export function injectionHits(s: string): PatternHit[] {
  const out: PatternHit[] = [];
  let m: RegExpExecArray | null;
  if (s.includes('<') || s.includes('[') || s.includes('#')) {
    if ((m = ROLE_MARKER.exec(s))) out.push({ kind: 'role-marker', at: m.index, match: m[0] });
  }
  if (!INJECTION_PREFILTER.test(s)) return out;
  for (const [kind, re] of INJECTION) {
    if ((m = re.exec(s))) { out.push({ kind, at: m.index, match: m[0] }); break; }
  }
  return out;
}

const COMMANDS: Array<[string, RegExp]> = [
  ['pipe-to-shell', /\b(?:curl|wget|fetch)\b[^\n|;]{0,300}\|\s*(?:sudo\s+)?(?:ba|z|da|k)?sh\b/i],
  ['pipe-to-interpreter', /\b(?:curl|wget)\b[^\n|;]{0,300}\|\s*(?:sudo\s+)?(?:python[0-9.]*|perl|ruby|node|php)\b/i],
  ['process-substitution', /\b(?:ba)?sh\s+<\(\s*(?:curl|wget)\b/i],
  ['download-and-run', /\b(?:curl|wget)\b[^\n]{0,300}(?:-o|-O|--output)\s*\S+[^\n]{0,100}(?:&&|;)\s*(?:chmod\s+\+x|\.\/|(?:ba)?sh\s|python)/i],
  ['powershell-download', /(?:IEX|Invoke-Expression)\s*\(?\s*\(?\s*New-Object\s+Net\.WebClient\)?\.DownloadString|powershell(?:\.exe)?\s+[^\n]{0,40}-(?:e|enc|encodedcommand)\s+[A-Za-z0-9+/=]{20,}/i],
  ['python-download-exec', /\bexec\s*\(\s*(?:urllib\.request\.urlopen|requests\.get|__import__\(\s*['"]urllib)/i],
  ['base64-exec', /base64\s+(?:-d|--decode)[^\n|]{0,200}\|\s*(?:ba)?sh\b|\b(?:exec|eval)\s*\(\s*(?:base64\.b64decode|atob)\s*\(/i],
  ['reverse-shell', /\/dev\/tcp\/[\w.-]+\/\d+|\bnc\s+(?:-\w+\s+)*-e\s+\/bin\/(?:ba)?sh|\bmkfifo\b[^\n]{0,80}\bnc\b/i],
  ['destructive', /\brm\s+-(?:rf|fr)\s+(?:--no-preserve-root\s+)?\/(?:\s|$|\*)|:\(\)\s*\{\s*:\|:&\s*\};:/],
  ['credential-theft', /(?:cat|curl[^\n]{0,80}-d\s*@|scp)\s+[^\n]{0,40}(?:~\/\.ssh\/id_|~\/\.aws\/credentials|\/etc\/shadow)/i],
];
const COMMAND_PREFILTER = /curl|wget|fetch|sh\b|iex|invoke-expression|powershell|exec|base64|\/dev\/tcp|nc |rm -|:\(\)|\.ssh|\.aws|shadow/i;
const BASE64_BLOB = /[A-Za-z0-9+/]{160,}={0,2}/;
const URL_RE = /\bhttps?:\/\/([^\s/"'<>()\]]+)/gi;
const IP_HOST = /^(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?$/;

export function commandHits(s: string, allowedHosts: readonly string[] = []): PatternHit[] {
  const out: PatternHit[] = [];
  let m: RegExpExecArray | null;
  if (COMMAND_PREFILTER.test(s)) {
    for (const [kind, re] of COMMANDS) {
      if ((m = re.exec(s))) { out.push({ kind, at: m.index, match: m[0].slice(0, 200) }); break; }
    }
  }
  if (s.length >= 160 && (m = BASE64_BLOB.exec(s)) && looksBase64(m[0])) out.push({ kind: 'base64-blob', at: m.index, match: `${m[0].slice(0, 40)}… (${m[0].length} characters)` });
  if (s.includes('://')) {
    URL_RE.lastIndex = 0;
    let n = 0;
    while ((m = URL_RE.exec(s)) && n++ < 100) {
      const host = m[1].toLowerCase().replace(/^[^@]*@/, '');
      if (IP_HOST.test(host) && !allowedHosts.includes(host)) { out.push({ kind: 'ip-url', at: m.index, match: m[0] }); break; }
      if (allowedHosts.length && !allowedHosts.some((h) => host === h || host.endsWith('.' + h))) { out.push({ kind: 'unknown-host-url', at: m.index, match: m[0] }); break; }
    }
  }
  return out;
}

/** Base64 text has mixed case and digits; a long run of one letter or of hex digits is not a blob. */
function looksBase64(s: string): boolean {
  let lower = 0, upper = 0, digit = 0;
  for (let i = 0; i < s.length && i < 400; i++) {
    const c = s.charCodeAt(i);
    if (c >= 97 && c <= 122) lower++; else if (c >= 65 && c <= 90) upper++; else if (c >= 48 && c <= 57) digit++;
  }
  return lower > 10 && upper > 10 && digit > 3 && !/^[0-9a-fA-F]+$/.test(s);
}
