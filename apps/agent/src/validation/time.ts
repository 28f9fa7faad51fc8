// Time synchronisation (Linux): which service keeps the clock (a running chronyd, ntpd, or
// systemd-timesyncd under systemd), whether it says the clock is synchronised, and its sources.
// time.resync steps the clock once through that service.
import type { FixResult } from '@tandem/protocol';
import type { ValidationFacts } from '@tandem/engine';
import { which } from '../facts/io.ts';
import { findProcesses } from '../facts/linux-proc.ts';
import { detectServiceManager } from '../facts/services.ts';
import { clip } from '../facts/util.ts';
import type { ValidationContext } from './context.ts';

type TimeFacts = Extract<ValidationFacts['time'], { status: 'ok' }>['data'];

const RUN = { timeoutMs: 10_000, env: { ...process.env, LC_ALL: 'C' } };

/** `chronyc tracking`: Leap status Normal means synchronised. */
export function parseChronyTracking(text: string): { synchronized: boolean | null; offset: string | null } {
  const leap = /^Leap status[ \t]*:[ \t]*(.+)$/m.exec(text)?.[1]?.trim();
  const offset = /^System time[ \t]*:[ \t]*(.+)$/m.exec(text)?.[1]?.trim() ?? null;
  return { synchronized: leap === undefined ? null : leap === 'Normal', offset };
}

/** `chronyc -n -c sources`: mode,state,address,… per line. */
export function parseChronySources(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.split(','))
    .filter((f) => f.length > 3 && f[0] === '^')
    .map((f) => clip(f[2]!));
}

/** `ntpq -pn`: peers after the ==== line; the one marked * is the system peer. */
export function parseNtpqPeers(text: string): { sources: string[]; synchronized: boolean } {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => /^=+$/.test(l.trim()));
  const peers = lines.slice(start + 1).filter((l) => l.trim() !== '');
  return {
    sources: peers.map((l) => clip(l.slice(1).trim().split(/\s+/)[0] ?? '')).filter(Boolean),
    synchronized: peers.some((l) => l.startsWith('*')),
  };
}

function parseProps(text: string): Record<string, string> {
  const props: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) props[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return props;
}

type Service = NonNullable<TimeFacts['service']>;

/** The time service in charge: a running chronyd or ntpd first, then timesyncd when systemd runs with NTP on. */
async function detect(ctx: ValidationContext): Promise<{ service: Service | null; chronyc?: string; tracking?: string }> {
  const chronyc = await which(ctx.io, 'chronyc');
  if (chronyc) {
    const r = await ctx.io.run(chronyc, ['-n', 'tracking'], RUN).catch(() => null);
    if (r?.code === 0) return { service: 'chrony', chronyc, tracking: r.stdout };
  }
  if ((await findProcesses(ctx.io, ['ntpd'])).length > 0) return { service: 'ntpd' };
  if ((await detectServiceManager(ctx.io)) === 'systemd' && (await which(ctx.io, 'timedatectl'))) {
    const r = await ctx.io.run('timedatectl', ['show'], RUN).catch(() => null);
    const props = r?.code === 0 ? parseProps(r.stdout) : {};
    // CanNTP: a timesyncd is installed, even when NTP is switched off (time.resync switches it on).
    if (props.NTP === 'yes' || props.CanNTP === 'yes') return { service: 'timesyncd' };
  }
  return { service: null };
}

export async function collectTime(ctx: ValidationContext): Promise<TimeFacts> {
  const found = await detect(ctx);
  switch (found.service) {
    case 'chrony': {
      const sources = await ctx.io.run(found.chronyc!, ['-n', '-c', 'sources'], RUN).catch(() => null);
      return {
        service: 'chrony',
        synchronized: parseChronyTracking(found.tracking ?? '').synchronized,
        sources: sources?.code === 0 ? parseChronySources(sources.stdout).slice(0, 64) : [],
      };
    }
    case 'ntpd': {
      const ntpq = await which(ctx.io, 'ntpq');
      const r = ntpq ? await ctx.io.run(ntpq, ['-pn'], RUN).catch(() => null) : null;
      if (!r || r.code !== 0) return { service: 'ntpd', synchronized: null, sources: [] };
      const peers = parseNtpqPeers(r.stdout);
      return { service: 'ntpd', synchronized: peers.synchronized, sources: peers.sources.slice(0, 64) };
    }
    case 'timesyncd': {
      const [show, sync] = await Promise.all([
        ctx.io.run('timedatectl', ['show'], RUN),
        ctx.io.run('timedatectl', ['show-timesync'], RUN).catch(() => null),
      ]);
      const props = parseProps(show.stdout);
      const t = sync?.code === 0 ? parseProps(sync.stdout) : {};
      const sources = [t.ServerName, ...(t.SystemNTPServers ?? '').split(/\s+/), ...(t.LinkNTPServers ?? '').split(/\s+/)].filter(
        (s): s is string => !!s,
      );
      return {
        service: 'timesyncd',
        synchronized: props.NTPSynchronized === undefined ? null : props.NTPSynchronized === 'yes',
        sources: [...new Set(sources)].slice(0, 64).map((s) => clip(s)),
      };
    }
    default:
      return { service: null, synchronized: null, sources: [] };
  }
}

const describe = (service: string, synced: boolean | null, offset?: string | null) =>
  `${service}: ${synced === null ? 'synchronisation unknown' : synced ? 'synchronised' : 'not synchronised'}${offset ? `, ${offset}` : ''}`;

/** One step of the configured time service; refused (an error) when there is none to ask. */
export async function resyncTime(ctx: ValidationContext): Promise<FixResult> {
  const found = await detect(ctx);
  switch (found.service) {
    case 'chrony': {
      const before = parseChronyTracking(found.tracking ?? '');
      const r = await ctx.io.run(found.chronyc!, ['makestep'], RUN);
      if (r.code !== 0) throw new Error(`chronyc makestep failed (exit ${r.code}): ${clip((r.stderr || r.stdout).trim(), 500)}`);
      const after = await ctx.io.run(found.chronyc!, ['-n', 'tracking'], RUN);
      const a = parseChronyTracking(after.stdout);
      return { outcome: 'changed', before: describe('chrony', before.synchronized, before.offset), after: describe('chrony', a.synchronized, a.offset), detail: 'chronyc makestep' };
    }
    case 'timesyncd': {
      const before = parseProps((await ctx.io.run('timedatectl', ['show'], RUN)).stdout);
      if (before.NTP === 'yes' && before.NTPSynchronized === 'yes') {
        return { outcome: 'already-satisfied', before: describe('timesyncd', true), after: describe('timesyncd', true), detail: null };
      }
      // NTP off: switching it on starts timesyncd. On but not synchronised: a restart makes it poll, and step, at once.
      const { cmd, args, what } =
        before.NTP === 'yes'
          ? { cmd: 'systemctl', args: ['restart', '--no-ask-password', 'systemd-timesyncd.service'], what: 'restarted systemd-timesyncd' }
          : { cmd: 'timedatectl', args: ['set-ntp', 'true'], what: 'timedatectl set-ntp true' };
      const r = await ctx.io.run(cmd, args, { timeoutMs: 30_000 });
      if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}): ${clip(r.stderr.trim(), 500)}`);
      const after = parseProps((await ctx.io.run('timedatectl', ['show'], RUN)).stdout);
      return { outcome: 'changed', before: describe('timesyncd', false), after: describe('timesyncd', after.NTPSynchronized === 'yes'), detail: what };
    }
    case 'ntpd':
      throw new Error('ntpd keeps this clock and corrects it itself; it cannot be asked for a single step: restart ntpd with -g (or use chrony) to step a large offset');
    default:
      throw new Error('no time service is configured on this server (chrony, systemd-timesyncd or ntpd): configure one, then validate again');
  }
}
