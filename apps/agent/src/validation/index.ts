// validate.facts: the collectors a validation run needs beyond the standing facts. Each runs on
// its own with a deadline; one that throws, times out or answers something the schema rejects
// becomes { status: 'unknown', reason } without hiding the others.
import { actionNames, validateFactsResultSchema } from '@tandem/protocol';
import type { ValidationFacts, ValidationFactsArgs } from '@tandem/engine';
import { runCommand, type CommandRunner } from '../exec.ts';
import { defaultIO, type FactsIO } from '../facts/io.ts';
import { errorMessage, withTimeout } from '../facts/util.ts';
import { AGENT_VERSION } from '../version.ts';
import { collectAccount, collectHooks, collectModules } from './agent.ts';
import { limitedRunner, type ValidationContext } from './context.ts';
import { collectFirewall } from './firewall.ts';
import { collectLinuxApps } from './linux-apps.ts';
import { collectCloud, collectHostsFile, collectInterfaces } from './network.ts';
import { collectPostgresFacts } from './postgres.ts';
import { collectListening, collectOpenFiles } from './processes.ts';
import { collectValidationServices } from './services.ts';
import { collectPaths, collectVolumes } from './storage.ts';
import { collectTime } from './time.ts';
import { collectWindowsApps } from './windows/index.ts';

export const DEFAULT_VALIDATION_COLLECTOR_TIMEOUT_MS = 25_000;

export interface ValidationOptions {
  hooksDir: string;
  platform?: NodeJS.Platform;
  run?: CommandRunner;
  readFile?: (file: string) => Promise<string>;
  collectorTimeoutMs?: number;
}

/** Commands the collectors may have running at once. */
const RUN_CONCURRENCY = 2;

export function validationContext(
  opts: ValidationOptions,
  io: FactsIO = defaultIO({ platform: opts.platform, run: limitedRunner(opts.run ?? runCommand, RUN_CONCURRENCY), readFile: opts.readFile }),
): ValidationContext {
  return {
    io,
    hooksDir: opts.hooksDir,
    agentVersion: AGENT_VERSION,
    actionNames,
    uid: process.getuid?.() ?? -1,
    gid: process.getgid?.() ?? -1,
    collectorTimeoutMs: opts.collectorTimeoutMs ?? DEFAULT_VALIDATION_COLLECTOR_TIMEOUT_MS,
    mountInfoFile: '/proc/self/mountinfo',
  };
}

type Section = { status: 'ok'; data: unknown } | { status: 'unknown'; reason: string };
type CollectorName = Exclude<keyof ValidationFacts, 'collectedAt' | 'apps'>;

const sectionSchemas = validateFactsResultSchema.shape;

function describeIssues(issues: { path: PropertyKey[]; message: string }[]): string {
  return issues
    .slice(0, 5)
    .map((i) => `${i.path.slice(1).map(String).join('.') || '(data)'}: ${i.message}`)
    .join('; ');
}

async function runCollector(name: CollectorName, ctx: ValidationContext, fn: () => Promise<unknown>): Promise<Section> {
  let data: unknown;
  try {
    data = await withTimeout(
      Promise.resolve().then(fn),
      ctx.collectorTimeoutMs,
      `${name} facts`,
    );
  } catch (e) {
    return { status: 'unknown', reason: errorMessage(e).slice(0, 2000) || 'unknown error' };
  }
  const parsed = sectionSchemas[name].safeParse({ status: 'ok', data });
  return parsed.success ? parsed.data : { status: 'unknown', reason: `collected ${name} facts do not match the protocol: ${describeIssues(parsed.error.issues)}`.slice(0, 2000) };
}

export async function collectValidationFacts(args: ValidationFactsArgs, ctx: ValidationContext): Promise<ValidationFacts> {
  const linux = ctx.io.platform === 'linux';
  const collectors: Record<Exclude<CollectorName, 'postgres'>, () => Promise<unknown>> = {
    account: () => collectAccount(ctx),
    modules: () => Promise.resolve(collectModules(ctx)),
    time: () => collectTime(ctx),
    firewall: () => collectFirewall(ctx, args),
    hooks: () => collectHooks(ctx),
    paths: () => collectPaths(ctx, args),
    volumes: () => collectVolumes(ctx, args),
    services: () => collectValidationServices(ctx, args),
    interfaces: () => collectInterfaces(ctx),
    hostsFile: () => collectHostsFile(ctx),
    listening: () => collectListening(ctx),
    openFiles: () => collectOpenFiles(ctx, args),
    cloud: () => collectCloud(ctx),
  };
  const names = Object.keys(collectors) as (keyof typeof collectors)[];
  // collectPostgresFacts answers a section itself (null args: none asked for).
  const postgres = withTimeout(collectPostgresFacts(args.postgres, { run: ctx.io.run }), ctx.collectorTimeoutMs, 'postgres facts').catch(
    (e: unknown): Section => ({ status: 'unknown', reason: errorMessage(e).slice(0, 2000) }),
  );
  // Each platform's collectors answer an empty map elsewhere.
  const apps = Promise.all([collectWindowsApps(ctx.io, args.apps, ctx.collectorTimeoutMs), collectLinuxApps(ctx, args)]).then(([windows, linux]) => ({ ...windows, ...linux }));
  const sections = await Promise.all(
    names.map((name) =>
      // The Linux collectors read /proc and run Linux tools; other platforms have their own.
      linux || name === 'modules'
        ? runCollector(name, ctx, collectors[name])
        : Promise.resolve<Section>({ status: 'unknown', reason: `${name} facts are not collected on ${ctx.io.platform} yet` }),
    ),
  );
  return {
    collectedAt: new Date().toISOString(),
    ...(Object.fromEntries(names.map((n, i) => [n, sections[i]!])) as Omit<ValidationFacts, 'collectedAt' | 'apps' | 'postgres'>),
    postgres: (await postgres) as ValidationFacts['postgres'],
    // Application collectors: Windows (SQL Server, Exchange, SharePoint), Linux (file server, generic service).
    apps: await apps,
  };
}
