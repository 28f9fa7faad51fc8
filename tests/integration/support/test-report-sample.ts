// A realistic evidence report of a test failover (a file pair, one probe failed), for the report
// renderer's and the report API's tests. It passes testReportSchema.
import { randomUUID } from 'node:crypto';
import { testReportSchema, type TestReport } from '@tandem/engine';

const at = (base: number, s: number) => new Date(base + s * 1000).toISOString();

export function sampleReport(
  over: { operationId?: string; pairId?: string; customerId?: string; pairName?: string; customerName?: string } = {},
): TestReport {
  const t0 = Date.parse('2026-12-07T09:00:00.000Z');
  const mismatches = Array.from(
    { length: 60 },
    (_, i) => `projects/2026/Q4/Angebot-${String(i).padStart(3, '0')}.docx  source 9f2c…${i}  copy 41aa…${i}`,
  ).join('\n');
  return testReportSchema.parse({
    version: 1,
    operationId: over.operationId ?? randomUUID(),
    pair: {
      id: over.pairId ?? randomUUID(),
      name: over.pairName ?? 'Dateiserver Zürich → Genève',
      application: 'file_server',
      method: 'file',
      source: 'fs01.müller-ag.example (10.0.0.11)',
      target: 'dr-fs01.müller-ag.example (10.9.0.11)',
    },
    customer: { id: over.customerId ?? randomUUID(), name: over.customerName ?? 'Müller & Søn AG – Łódź 支店' },
    startedBy: { kind: 'user', name: 'Zoë Ångström', email: 'zoe@msp.example' },
    startedAt: at(t0, 0),
    finishedAt: at(t0, 94),
    durationMs: 94_000,
    result: 'failed',
    error: '1 of 3 probes failed: 57 of 60 sampled files differ from the source',
    copy: { kind: 'files', method: 'reflink', bytes: 2_147_483_648, files: 18_342, durationMs: 3_400 },
    lag: { before: 2, during: 4, after: 1 },
    probes: [
      {
        index: 0,
        kind: 'files-match',
        description: 'Sampled files match the source (60 files)',
        passed: false,
        summary: '57 of 60 sampled files differ from the source',
        detail: mismatches,
        durationMs: 12_300,
      },
      {
        index: 1,
        kind: 'paths-exist',
        description: 'Required paths exist: /srv/share/Buchhaltung, /srv/share/Verträge',
        passed: true,
        summary: '2 of 2 paths exist in the copy',
        detail: '/srv/share/Buchhaltung\n/srv/share/Verträge',
        durationMs: 40,
      },
      {
        index: 2,
        kind: 'hook',
        description: 'A script exits 0: check-shares.sh',
        passed: true,
        summary: 'The script exited 0 after 1.2 s',
        detail: `stdout:\n${'Share OK — ünïcödé ✓ naïve café €100 '.repeat(40)}\nstderr:\n(empty)`,
        durationMs: 1_200,
      },
    ],
    timeline: [
      step(0, 'agents.check', 'Check the target’s agent answers', 'succeeded', t0, 0, 1),
      step(1, 'test.lag', 'Measure the replication lag before the test', 'succeeded', t0, 1, 2),
      step(2, 'test.copy', 'Make a point-in-time copy of the replica (reflink where possible)', 'succeeded', t0, 2, 6),
      step(
        3,
        'test.probe',
        'Probe: Sampled files match the source (60 files)',
        'failed',
        t0,
        6,
        18,
        '57 of 60 sampled files differ from the source',
      ),
      step(4, 'test.probe', 'Probe: Required paths exist', 'succeeded', t0, 18, 18),
      step(5, 'test.probe', 'Probe: A script exits 0', 'succeeded', t0, 18, 20),
      step(6, 'test.lag', 'Measure the replication lag during the test', 'succeeded', t0, 20, 21),
      step(7, 'test.teardown', 'Remove the test copy', 'succeeded', t0, 21, 90),
      step(8, 'test.lag', 'Measure the replication lag after the test', 'succeeded', t0, 90, 94),
    ],
    cleanedUp: true,
    settings: {
      general: { name: 'Dateiserver Zürich → Genève', application: 'file_server', method: 'file' },
      connection: {
        route: '10.9.0.11',
        routeMode: 'direct',
        port: 7420,
        mirror: 'checksum',
        bandwidthLimitKbps: null,
        targetRoot: '/',
      },
      replicationSet: { roots: ['/srv/share'], excludes: ['*.tmp', '~$*'] },
      testing: {
        probes: [
          { kind: 'files-match', sample: 60 },
          { kind: 'paths-exist', paths: ['/srv/share/Buchhaltung', '/srv/share/Verträge'] },
        ],
        copyMethod: 'auto',
      },
      dns: {
        servers: ['10.0.0.2'],
        zone: 'müller-ag.example',
        credentialId: null,
        secret: 'must-not-appear',
        tsigKey: 'must-not-appear-either',
      },
      hooks: { beforeFailover: '#!/bin/sh\nsystemctl stop smbd\n', password: 'never-shown' },
    },
  });
}

function step(
  position: number,
  kind: string,
  description: string,
  status: string,
  t0: number,
  from: number,
  to: number,
  error: string | null = null,
) {
  return {
    position,
    kind,
    description,
    status,
    startedAt: at(t0, from),
    finishedAt: at(t0, to),
    durationMs: (to - from) * 1000,
    error,
  };
}
