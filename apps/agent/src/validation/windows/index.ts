// The Windows application collectors of validate.facts (catalogue app names sqlserver, exchange,
// sharepoint). Each runs on its own: one that fails becomes { status: 'unknown', reason } for its
// app without hiding the others. Only a win32 agent runs them; elsewhere they are not asked for.
import type { FactsIO } from '../../facts/io.ts';
import { errorMessage, withTimeout } from '../../facts/util.ts';
import { collectExchangeValidation } from './exchange.ts';
import { collectSharepointValidation } from './sharepoint.ts';
import { collectSqlserverValidation } from './sqlserver.ts';

export const windowsAppCollectors: Record<'sqlserver' | 'exchange' | 'sharepoint', (io: FactsIO) => Promise<unknown>> = {
  sqlserver: collectSqlserverValidation,
  exchange: collectExchangeValidation,
  sharepoint: collectSharepointValidation,
};
export type WindowsApp = keyof typeof windowsAppCollectors;

export type AppSection = { status: 'ok'; data: unknown } | { status: 'unknown'; reason: string };

/** Runs the asked-for Windows app collectors; an empty map off Windows. */
export async function collectWindowsApps(io: FactsIO, apps: readonly string[], timeoutMs: number): Promise<Record<string, AppSection>> {
  if (io.platform !== 'win32') return {};
  const wanted = apps.filter((a): a is WindowsApp => Object.hasOwn(windowsAppCollectors, a));
  const sections = await Promise.all(
    wanted.map(async (app): Promise<AppSection> => {
      try {
        return { status: 'ok', data: await withTimeout(windowsAppCollectors[app](io), timeoutMs, `the ${app} collector`) };
      } catch (e) {
        return { status: 'unknown', reason: errorMessage(e).slice(0, 2000) };
      }
    }),
  );
  return Object.fromEntries(wanted.map((app, i) => [app, sections[i]!]));
}
