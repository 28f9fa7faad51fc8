// Small helpers shared by the collectors: bounded strings, PowerShell invocation and its JSON,
// concurrency limits and timeouts.
import type { FactsIO } from './io.ts';

/** The protocol caps fact strings at 4096 characters. */
export function clip(value: string, max = 4096): string {
  return value.length > max ? value.slice(0, max) : value;
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function firstLine(text: string): string {
  return text.trim().split(/\r?\n/)[0] ?? '';
}

/** ConvertTo-Json prints one object for a single item, an array for several, nothing for none. */
export function toArray(value: unknown): unknown[] {
  if (value === null || value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function str(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return null;
}

export function num(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return null;
}

export function bool(value: unknown): boolean | null {
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 'True' || value === 1 || value === '1') return true;
  if (value === 'false' || value === 'False' || value === 0 || value === '0') return false;
  return null;
}

export function parseJson(text: string): unknown {
  const trimmed = text.replace(/^\uFEFF/, '').trim();
  if (trimmed === '') return null;
  return JSON.parse(trimmed) as unknown;
}

/** Runs fn over items with at most `limit` running at once, keeping the order of items. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// ---------------------------------------------------------------------------------------------
// PowerShell

const POWERSHELL_PROLOGUE = [
  "$ErrorActionPreference = 'Stop'",
  "$ProgressPreference = 'SilentlyContinue'",
  '[Console]::OutputEncoding = [System.Text.Encoding]::UTF8',
].join('\n');

/**
 * Builds powershell.exe arguments for a script; its first line names it (`# tandem:<name>`). A
 * terminating error prints its message alone on stderr (not Windows PowerShell's CLIXML) and exits 1.
 */
export function powerShellArgs(name: string, script: string): string[] {
  const full = `# tandem:${name}\n${POWERSHELL_PROLOGUE}\ntry {\n${script}\n} catch {\n  [Console]::Error.WriteLine($_.Exception.Message)\n  exit 1\n}`;
  return [
    '-NoProfile',
    '-NonInteractive',
    '-ExecutionPolicy',
    'Bypass',
    '-EncodedCommand',
    Buffer.from(full, 'utf16le').toString('base64'),
  ];
}

/** The script a powershell.exe argument vector carries, or null (for tests' fake runners). */
export function decodePowerShellScript(args: readonly string[]): string | null {
  const i = args.indexOf('-EncodedCommand');
  const encoded = i >= 0 ? args[i + 1] : undefined;
  return encoded === undefined ? null : Buffer.from(encoded, 'base64').toString('utf16le');
}

/** The name a script was given by powerShellArgs, or null. */
export function powerShellScriptName(args: readonly string[]): string | null {
  return /^# tandem:([\w.-]+)/.exec(decodePowerShellScript(args) ?? '')?.[1] ?? null;
}

/** Runs a PowerShell script that prints JSON (ConvertTo-Json) and returns the parsed value. */
export async function powerShellJson(io: FactsIO, name: string, script: string, timeoutMs = 60_000): Promise<unknown> {
  const result = await io.run('powershell.exe', powerShellArgs(name, script), { timeoutMs });
  if (result.code !== 0) {
    throw new Error(
      `PowerShell ${name} failed (exit ${result.code}): ${clip(result.stderr.trim() || result.stdout.trim(), 500)}`,
    );
  }
  try {
    return parseJson(result.stdout);
  } catch (e) {
    throw new Error(`PowerShell ${name} printed invalid JSON: ${errorMessage(e)}`);
  }
}

/** A PowerShell single-quoted string literal. */
export function psQuote(value: string): string {
  // PowerShell also treats typographic single quotes as quotes; doubling escapes each.
  return `'${value.replace(/['\u2018\u2019\u201A\u201B]/g, '$&$&')}'`;
}
