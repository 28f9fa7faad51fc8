// collectFacts: every collector runs concurrently; a collector that throws, times out or returns
// data the protocol rejects makes only its own section "unknown" (with the reason).
import { factsSchema, type Facts } from '@tandem/protocol';
import type { CommandRunner } from '../exec.ts';
import { collectApplications } from './applications/index.ts';
import { collectCluster } from './cluster.ts';
import { collectHost } from './host.ts';
import { defaultIO, type FactsIO, type FileStat, type SystemInfo } from './io.ts';
import { collectNetwork } from './network.ts';
import { collectServices } from './services.ts';
import { errorMessage, withTimeout } from './util.ts';
import { collectVolumes } from './volumes.ts';

export type { FactsIO, FileStat, SystemInfo } from './io.ts';

export interface CollectFactsOptions {
  capabilities: string[];
  agentVersion: string;
  protocolVersion: number;
  clockOffsetMs: number | null;
  platform?: NodeJS.Platform;
  run?: CommandRunner;
  readFile?: (file: string) => Promise<string>;
  readDir?: (dir: string) => Promise<string[]>;
  readLink?: (file: string) => Promise<string>;
  stat?: (file: string) => Promise<FileStat>;
  /** Replaces parts of Node's os module (host and network facts). */
  system?: Partial<SystemInfo>;
  /** Each collector's time limit; default 90 s. */
  collectorTimeoutMs?: number;
}

export const DEFAULT_COLLECTOR_TIMEOUT_MS = 90_000;

type SectionName = 'host' | 'network' | 'volumes' | 'services' | 'applications' | 'cluster';

const sectionSchemas = factsSchema.shape;

type Section = { status: 'ok'; data: unknown } | { status: 'unknown'; reason: string };

const unknown = (reason: string): Section => ({ status: 'unknown', reason: reason.slice(0, 2000) || 'unknown error' });

function describeIssues(error: { issues: { path: PropertyKey[]; message: string }[] }): string {
  return (
    error.issues
      .slice(0, 5)
      // Paths are relative to the section's data ({status, data}).
      .map((i) => `${i.path.slice(1).map(String).join('.') || '(data)'}: ${i.message}`)
      .join('; ')
  );
}

export async function collectFacts(opts: CollectFactsOptions): Promise<Facts> {
  const io: FactsIO = defaultIO({
    platform: opts.platform,
    run: opts.run,
    readFile: opts.readFile,
    readDir: opts.readDir,
    readLink: opts.readLink,
    stat: opts.stat,
    system: opts.system,
  });
  const timeoutMs = opts.collectorTimeoutMs ?? DEFAULT_COLLECTOR_TIMEOUT_MS;
  const collectors: Record<SectionName, () => Promise<unknown>> = {
    host: () => collectHost(io, opts.clockOffsetMs),
    network: () => collectNetwork(io),
    volumes: () => collectVolumes(io),
    services: () => collectServices(io),
    applications: () => collectApplications(io),
    cluster: () => collectCluster(io),
  };

  const names = Object.keys(collectors) as SectionName[];
  const sections = await Promise.all(
    names.map(async (name): Promise<Section> => {
      let data: unknown;
      try {
        // Promise.resolve().then: a collector that throws synchronously is caught here too.
        data = await withTimeout(
          Promise.resolve().then(() => collectors[name]()),
          timeoutMs,
          `${name} facts`,
        );
      } catch (e) {
        return unknown(errorMessage(e));
      }
      const parsed = sectionSchemas[name].safeParse({ status: 'ok', data });
      return parsed.success
        ? parsed.data
        : unknown(`collected ${name} facts do not match the protocol: ${describeIssues(parsed.error)}`);
    }),
  );
  const byName = Object.fromEntries(names.map((n, i) => [n, sections[i]!]));

  return factsSchema.parse({
    collectedAt: new Date().toISOString(),
    agent: { version: opts.agentVersion, protocolVersion: opts.protocolVersion, capabilities: opts.capabilities },
    ...byName,
  });
}
