// The enable gate (catalogue §1.3): protection may be enabled only after a finished validation
// run that is newer than the last configuration change, read the facts as they still are, and
// found no error (nor an error check it could not evaluate). The fingerprint is fingerprint.ts's.

export interface GateRun {
  finishedAt: number | null;
  /** The pair's configChangedAt the run validated. */
  configChangedAt: number | null;
  fingerprint: string | null;
  /** Per check and side: status and severity. */
  results: { checkId: string; status: string; severity: 'error' | 'warning' }[];
}

export type GateVerdict = { ok: true } | { ok: false; code: 'never' | 'running' | 'changed' | 'facts-changed' | 'errors' | 'unknown'; reason: string };

export function enableGate(input: { configChangedAt: number; run: GateRun | null; currentFingerprint: string | null }): GateVerdict {
  const { run } = input;
  if (!run) return { ok: false, code: 'never', reason: 'Validate the pair first: protection is enabled only after a validation run without errors.' };
  if (run.finishedAt === null) return { ok: false, code: 'running', reason: 'A validation run is still going: wait for it to finish.' };
  if (run.configChangedAt === null || run.configChangedAt < input.configChangedAt || run.finishedAt < input.configChangedAt) {
    return { ok: false, code: 'changed', reason: 'The pair’s configuration changed after the last validation: validate it again.' };
  }
  if (input.currentFingerprint !== null && run.fingerprint !== input.currentFingerprint) {
    return { ok: false, code: 'facts-changed', reason: 'The servers’ facts changed after the last validation: validate the pair again.' };
  }
  const errors = run.results.filter((r) => r.severity === 'error' && (r.status === 'error-fixable' || r.status === 'error-manual'));
  if (errors.length) {
    const names = [...new Set(errors.map((e) => e.checkId))];
    return { ok: false, code: 'errors', reason: `${names.length} check${names.length === 1 ? '' : 's'} found errors (${names.slice(0, 3).join(', ')}${names.length > 3 ? '…' : ''}): fix them and validate again.` };
  }
  const unknown = run.results.filter((r) => r.severity === 'error' && r.status === 'unknown');
  if (unknown.length) {
    const names = [...new Set(unknown.map((e) => e.checkId))];
    return { ok: false, code: 'unknown', reason: `${names.length} error check${names.length === 1 ? '' : 's'} could not be evaluated (${names.slice(0, 3).join(', ')}${names.length > 3 ? '…' : ''}): make the facts collectable and validate again.` };
  }
  return { ok: true };
}
