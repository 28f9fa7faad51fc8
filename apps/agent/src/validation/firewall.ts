// The host firewall (Linux): which one is in charge (firewalld, ufw, an nftables ruleset, or
// legacy iptables), and whether new inbound connections to the asked ports are accepted from
// anywhere. nftables is read as JSON (`nft -j list ruleset`) and the input chains are walked the
// way the kernel would for a new packet from an arbitrary address; a rule we cannot judge makes
// the answer null (cannot tell) rather than a guess.
import type { ValidationFacts, ValidationFactsArgs } from '@tandem/engine';
import { which } from '../facts/io.ts';
import { isRecord } from '../facts/util.ts';
import type { ValidationContext } from './context.ts';

type FirewallFacts = Extract<ValidationFacts['firewall'], { status: 'ok' }>['data'];
type Port = ValidationFactsArgs['ports'][number];
type Verdict = 'accept' | 'drop' | 'continue' | 'return';

const RUN = { timeoutMs: 10_000, env: { ...process.env, LC_ALL: 'C' } };

interface NftChain {
  family: string;
  table: string;
  name: string;
  hook?: string;
  policy?: string;
  rules: unknown[][];
}

/** The chains of `nft -j list ruleset`, with their rules' expressions in order. */
export function nftChains(json: unknown): NftChain[] {
  const items = isRecord(json) && Array.isArray(json.nftables) ? json.nftables : [];
  const chains = new Map<string, NftChain>();
  const key = (c: Record<string, unknown>) => `${String(c.family)}|${String(c.table)}|${String(c.chain ?? c.name)}`;
  for (const item of items) {
    if (!isRecord(item)) continue;
    if (isRecord(item.chain)) {
      const c = item.chain;
      chains.set(key(c), { family: String(c.family), table: String(c.table), name: String(c.name), hook: c.hook as string | undefined, policy: c.policy as string | undefined, rules: [] });
    } else if (isRecord(item.rule)) {
      chains.get(key(item.rule))?.rules.push(Array.isArray(item.rule.expr) ? item.rule.expr : []);
    }
  }
  return [...chains.values()];
}

/** Whether a match's right-hand side holds the value: a value, a set, a range or a list. */
function holds(right: unknown, value: string | number): boolean | null {
  if (typeof right === 'number' || typeof right === 'string') {
    if (typeof right === 'string' && right.startsWith('@')) return null; // A named set: not resolved.
    return String(right).toLowerCase() === String(value).toLowerCase();
  }
  if (Array.isArray(right)) return anyOf(right.map((r) => holds(r, value)));
  if (isRecord(right)) {
    if (Array.isArray(right.set)) return anyOf(right.set.map((r) => holds(r, value)));
    if (Array.isArray(right.range) && typeof value === 'number') {
      const [lo, hi] = right.range as unknown[];
      return typeof lo === 'number' && typeof hi === 'number' ? value >= lo && value <= hi : null;
    }
    if (isRecord(right.elem)) return holds(right.elem.val, value);
  }
  return null;
}

const anyOf = (results: (boolean | null)[]) => (results.includes(true) ? true : results.includes(null) ? null : false);

/** Does one `match` apply to a new packet from anywhere to port/protocol? null: cannot judge. */
function matches(m: Record<string, unknown>, port: Port): boolean | null {
  const left = isRecord(m.left) ? m.left : {};
  const negate = m.op === '!=';
  let result: boolean | null;
  const payload = isRecord(left.payload) ? left.payload : null;
  const meta = isRecord(left.meta) ? left.meta : null;
  const ct = isRecord(left.ct) ? left.ct : null;
  if (payload && payload.field === 'dport') {
    const proto = String(payload.protocol);
    result = proto !== 'th' && proto !== port.protocol ? false : holds(m.right, port.port);
  } else if (payload && (payload.field === 'protocol' || payload.field === 'nexthdr')) {
    result = holds(m.right, port.protocol);
  } else if (meta && (meta.key === 'l4proto' || meta.key === 'protocol')) {
    result = meta.key === 'protocol' ? true : holds(m.right, port.protocol);
  } else if (ct && ct.key === 'state') {
    result = holds(m.right, 'new');
  } else if (meta && ['iif', 'iifname', 'iiftype'].includes(String(meta.key))) {
    return false; // Only for some interfaces: not "from anywhere".
  } else if (payload && ['saddr', 'daddr'].includes(String(payload.field))) {
    return false; // Only for some addresses.
  } else {
    return null;
  }
  return result === null ? null : negate ? !result : result;
}

const NEUTRAL = new Set(['counter', 'log', 'comment', 'limit', 'notrack', 'mangle', 'meta']);

interface WalkState {
  chains: Map<string, NftChain>;
  uncertain: boolean;
  depth: number;
}

function walkChain(chain: NftChain, port: Port, st: WalkState): Verdict {
  if (st.depth > 16) {
    st.uncertain = true;
    return 'continue';
  }
  for (const expr of chain.rules) {
    let applies: boolean | null = true;
    let verdict: Verdict | { jump: string; goto: boolean } | null = null;
    for (const e of expr) {
      if (!isRecord(e)) continue;
      const [kind] = Object.keys(e);
      if (kind === 'match') {
        const r = isRecord(e.match) ? matches(e.match, port) : null;
        if (r === false) applies = false;
        else if (r === null && applies) applies = null;
      } else if (kind === 'accept' || kind === 'drop' || kind === 'reject') {
        verdict = kind === 'accept' ? 'accept' : 'drop';
      } else if (kind === 'return') {
        verdict = 'return';
      } else if ((kind === 'jump' || kind === 'goto') && isRecord(e[kind])) {
        verdict = { jump: String(e[kind].target), goto: kind === 'goto' };
      } else if (!NEUTRAL.has(kind!)) {
        if (applies) applies = null; // An expression we do not model (fib, set lookups…).
      }
      if (applies === false) break;
    }
    if (applies === false || verdict === null) continue;
    if (applies === null) {
      st.uncertain = true;
      continue;
    }
    if (typeof verdict === 'string') return verdict;
    const target = st.chains.get(`${chain.family}|${chain.table}|${verdict.jump}`);
    if (!target) {
      st.uncertain = true;
      continue;
    }
    const inner = walkChain(target, port, { ...st, depth: st.depth + 1 });
    if (inner === 'accept' || inner === 'drop') return inner;
    if (verdict.goto) return 'return';
  }
  return 'continue';
}

/** Accepted by every input base chain (ip, ip6, inet)? null when some rule could not be judged. */
export function nftPortOpen(chains: NftChain[], port: Port): boolean | null {
  const byKey = new Map(chains.map((c) => [`${c.family}|${c.table}|${c.name}`, c]));
  let uncertain = false;
  for (const base of chains.filter((c) => c.hook === 'input' && ['ip', 'ip6', 'inet'].includes(c.family))) {
    const st: WalkState = { chains: byKey, uncertain: false, depth: 0 };
    let v = walkChain(base, port, st);
    if (v === 'continue' || v === 'return') v = base.policy === 'drop' ? 'drop' : 'accept';
    if (v === 'drop' && !st.uncertain) return false;
    uncertain ||= st.uncertain;
  }
  return uncertain ? null : true;
}

/** `ufw status verbose`: active, the default incoming policy and ALLOW/DENY lines for anywhere. */
export function ufwPortOpen(text: string, port: Port): boolean | null {
  const incoming = /Default:\s*(\w+) \(incoming\)/.exec(text)?.[1];
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s+(ALLOW|DENY|REJECT|LIMIT)(?: IN)?\s+Anywhere/.exec(line.trim());
    if (!m) continue;
    const [portPart, proto] = m[1]!.split('/');
    if (proto && proto !== port.protocol) continue;
    const range = portPart!.split(':').map(Number);
    const hit = range.length === 2 ? port.port >= range[0]! && port.port <= range[1]! : portPart!.split(',').map(Number).includes(port.port);
    if (hit) return m[2] === 'ALLOW' || m[2] === 'LIMIT';
  }
  return incoming === undefined ? null : incoming === 'allow';
}

async function firewalldOpen(ctx: ValidationContext, bin: string, ports: readonly Port[]): Promise<(boolean | null)[]> {
  const [p, s] = await Promise.all([ctx.io.run(bin, ['--list-ports'], RUN), ctx.io.run(bin, ['--list-services'], RUN)]);
  if (p.code !== 0 || s.code !== 0) return ports.map(() => null);
  const open = new Set(p.stdout.trim().split(/\s+/).filter(Boolean));
  for (const service of s.stdout.trim().split(/\s+/).filter(Boolean)) {
    const info = await ctx.io.run(bin, [`--info-service=${service}`], RUN);
    const line = /^\s*ports:\s*(.*)$/m.exec(info.stdout)?.[1] ?? '';
    for (const entry of line.split(/\s+/).filter(Boolean)) open.add(entry);
  }
  return ports.map((port) =>
    [...open].some((entry) => {
      const [range, proto] = entry.split('/');
      const [lo, hi] = range!.split('-').map(Number);
      return proto === port.protocol && port.port >= lo! && port.port <= (hi ?? lo!);
    }),
  );
}

export async function collectFirewall(ctx: ValidationContext, args: ValidationFactsArgs): Promise<FirewallFacts> {
  const [nft, firewallCmd, ufw, iptables] = await Promise.all(['nft', 'firewall-cmd', 'ufw', 'iptables'].map((b) => which(ctx.io, b)));
  const agentManaged = nft !== null && ctx.uid === 0;
  const answer = (manager: FirewallFacts['manager'], open: (boolean | null)[]): FirewallFacts => ({
    manager,
    agentManaged,
    ports: args.ports.map((p, i) => ({ port: p.port, protocol: p.protocol, open: open[i] ?? null })),
  });

  if (firewallCmd && (await ctx.io.run(firewallCmd, ['--state'], RUN)).stdout.trim() === 'running') {
    return answer('firewalld', await firewalldOpen(ctx, firewallCmd, args.ports));
  }
  if (ufw) {
    const r = await ctx.io.run(ufw, ['status', 'verbose'], RUN);
    if (r.code === 0 && /^Status: active/m.test(r.stdout)) return answer('ufw', args.ports.map((p) => ufwPortOpen(r.stdout, p)));
  }
  if (nft) {
    const r = await ctx.io.run(nft, ['-j', 'list', 'ruleset'], RUN);
    if (r.code !== 0) throw new Error(`nft -j list ruleset failed (exit ${r.code}): ${r.stderr.trim().slice(0, 500)}`);
    const chains = nftChains(JSON.parse(r.stdout || '{}'));
    // iptables-nft rules live here too, so this also covers iptables on current distributions.
    if (chains.some((c) => c.hook === 'input')) return answer('nftables', args.ports.map((p) => nftPortOpen(chains, p)));
  }
  if (iptables) {
    const r = await ctx.io.run(iptables, ['-S', 'INPUT'], RUN);
    if (r.code === 0 && (/^-A /m.test(r.stdout) || /^-P INPUT (DROP|REJECT)/m.test(r.stdout))) {
      return answer('iptables', args.ports.map(() => null)); // Legacy iptables rules are not evaluated.
    }
  }
  // No firewall filters input: every port is open as far as the host is concerned.
  return answer(null, args.ports.map(() => true));
}
