import { describe, expect, it } from 'vitest';
import { hooksChecks } from './hooks.ts';
import { notGood, outcomeOf, project, type Expected } from './core-cases.ts';
import { snapshotFixture, withFacts } from '../fixtures.ts';
import { evaluateChecks } from '../evaluate.ts';
import type { CheckId } from '../ids.ts';
import type { FindingSide } from '../model.ts';
import type { FactsSnapshot } from '../snapshot.ts';

type Case = { name: string; id: CheckId; snap: FactsSnapshot; side: FindingSide; expected: Expected };
const base = snapshotFixture;
const overlay = (name: string, content: string) => withFacts(base(), { pair: { overlays: [{ name, content }] } });

const cases: Case[] = [
  { name: 'not-runnable: directory ready', id: 'hooks.not-runnable', snap: base(), side: 'target', expected: { status: 'good' } },
  {
    name: 'not-runnable: missing directory → prepare it, also while protected',
    id: 'hooks.not-runnable',
    snap: withFacts(base(), { pair: { protected: true, state: 'protected' }, target: { hooks: { exists: false, writable: false } } }),
    side: 'target',
    expected: { status: 'error-fixable', findings: [{ subject: 'path=/var/lib/tandem/hooks', actions: ['hooks.prepare-dir'], plan: [{ node: 'target' }], blocked: false }] },
  },
  { name: 'not-runnable: noexec mount → manual', id: 'hooks.not-runnable', snap: withFacts(base(), { source: { hooks: { noexec: true } } }), side: 'source', expected: { status: 'error-manual', findings: [{ subject: 'path=/var/lib/tandem/hooks', guidance: /noexec/ }] } },
  { name: 'not-runnable: local policy → manual', id: 'hooks.not-runnable', snap: withFacts(base(), { source: { hooks: { allowed: false } } }), side: 'source', expected: { status: 'error-manual', findings: [{ subject: 'policy=hooks' }] } },
  { name: 'not-runnable: Windows without PowerShell 7', id: 'hooks.not-runnable', snap: withFacts(base(), { target: { os: { family: 'windows', name: 'Windows Server 2022 Standard' } } }), side: 'target', expected: { status: 'error-manual', findings: [{ subject: 'interpreter=pwsh', guidance: /pwsh/ }] } },
  { name: 'not-runnable: python overlay without python3', id: 'hooks.not-runnable', snap: withFacts(overlay('after-failover.py', '#!/usr/bin/env python3\nprint("ok")\n'), { target: { hooks: { interpreters: { bash: '5.2', sh: 'dash', python3: null, pwsh: null } } } }), side: 'target', expected: { status: 'error-manual', findings: [{ subject: 'interpreter=python3' }] } },

  { name: 'drift: nothing deployed yet', id: 'hooks.drift', snap: base(), side: 'target', expected: { status: 'good' } },
  { name: 'drift: deployed bundle matches', id: 'hooks.drift', snap: withFacts(base(), { pair: { hookBundleDigest: 'b-2' }, target: { hooks: { bundleDigest: 'b-2' } } }), side: 'target', expected: { status: 'good' } },
  {
    name: 'drift: edited in place → redeploy the generated bundle',
    id: 'hooks.drift',
    snap: withFacts(base(), { pair: { hookBundleDigest: 'b-2' }, target: { hooks: { bundleDigest: 'b-1-edited' } } }),
    side: 'target',
    expected: { status: 'warning-fixable', findings: [{ subject: 'path=/var/lib/tandem/hooks', plan: [{ action: 'hooks.deploy', node: 'target', digest: 'b-2', before: 'b-1-edited', after: 'b-2' }] }] },
  },
  { name: 'drift: generated digest not computed → unknown', id: 'hooks.drift', snap: withFacts(base(), { target: { hooks: { bundleDigest: 'b-1' } } }), side: 'target', expected: { status: 'unknown' } },

  { name: 'inline-secret: no overlays', id: 'hooks.inline-secret', snap: base(), side: 'none', expected: { status: 'good' } },
  { name: 'inline-secret: secrets by reference are fine', id: 'hooks.inline-secret', snap: overlay('before-stop.sh', '#!/bin/bash\nPGPASSWORD="$DB_PASSWORD" psql -c "checkpoint"\nmysql -p"$MYSQL_PWD"\nMYSQL_PWD_FILE=/run/secrets/mysql\nread -s -p "Password: " PW\n'), side: 'none', expected: { status: 'good' } },
  { name: 'inline-secret: literal password argument', id: 'hooks.inline-secret', snap: overlay('before-stop.sh', '#!/bin/bash\nmysqladmin -u root --password=Sup3rSecret flush-logs\n'), side: 'none', expected: { status: 'warning-manual', findings: [{ subject: 'overlay=before-stop.sh', guidance: /vault/ }] } },
  { name: 'inline-secret: private key', id: 'hooks.inline-secret', snap: overlay('key.sh', 'cat > /tmp/k <<EOF\n-----BEGIN OPENSSH PRIVATE KEY-----\nabc\nEOF\n'), side: 'none', expected: { status: 'warning-manual', findings: [{ subject: 'overlay=key.sh' }] } },
];

describe('hooks checks', () => {
  it('are all good on the healthy fixture', () => {
    expect(notGood(hooksChecks, snapshotFixture())).toEqual([]);
  });

  it.each(cases)('$name', ({ id, snap, side, expected }) => {
    expect(project(outcomeOf(hooksChecks, id, snap, side), expected)).toEqual(expected);
  });

  it('evidence of an inline secret names the line, never the value', () => {
    const [r] = evaluateChecks(hooksChecks.filter((c) => c.id === 'hooks.inline-secret'), overlay('x.sh', 'echo hi\nexport API_TOKEN=abcd1234efgh\n'));
    expect(r?.findings[0]?.evidence).toEqual({ overlay: 'x.sh', hits: [{ line: 2, kind: 'secret assignment' }] });
    expect(JSON.stringify(r)).not.toContain('abcd1234efgh');
  });

  it('a missing fact gives unknown, not a crash', () => {
    const snap = withFacts(base(), { target: { hooks: undefined, failures: { hooks: 'hook directory unreadable' } } });
    expect(outcomeOf(hooksChecks, 'hooks.not-runnable', snap, 'target').status).toBe('unknown');
  });
});
