// The run-once memory's rules on a real directory: what is remembered, what is not, the size
// cap, and the bounds (count and age). The end-to-end case (a real agent killed with -9) is in
// tests/integration/agent-failover-actions.test.ts.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CommandMemory, MAX_AGE_MS, MAX_ENTRIES, MAX_ENTRY_BYTES } from './command-memory.ts';

const dirs: string[] = [];
function memory(): CommandMemory {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-memory-'));
  dirs.push(dir);
  return new CommandMemory(path.join(dir, 'commands'));
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('CommandMemory', () => {
  it('remembers finished outcomes (results and errors) across instances, in 0600 files of a 0700 directory', () => {
    const m = memory();
    const ok = randomUUID();
    const failed = randomUUID();
    m.finished(ok, 'hook.run', m.started(ok, 'hook.run'), { ok: true, result: { exitCode: 0 } });
    m.finished(failed, 'service.ensure', m.started(failed, 'service.ensure'), { ok: false, error: { code: 'failed', message: 'no' } });
    const again = new CommandMemory(m.dir);
    expect(again.recall(ok)).toEqual({ ok: true, result: { exitCode: 0 } });
    expect(again.recall(ok.toUpperCase())).toEqual({ ok: true, result: { exitCode: 0 } });
    expect(again.recall(failed)).toEqual({ ok: false, error: { code: 'failed', message: 'no' } });
    expect(fs.statSync(m.dir).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(m.dir, `${ok}.json`)).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(m.dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('does not remember a command that started and never finished, nor one it never saw', () => {
    const m = memory();
    const id = randomUUID();
    m.started(id, 'address.ensure');
    expect(new CommandMemory(m.dir).recall(id)).toBeNull();
    expect(m.recall(randomUUID())).toBeNull();
    expect(m.recall('../../etc/passwd')).toBeNull();
  });

  it('keeps no result over the size cap, and answers such a command with an error saying it ran', () => {
    const m = memory();
    const id = randomUUID();
    m.finished(id, 'dns.transfer', m.started(id, 'dns.transfer'), { ok: true, result: 'x'.repeat(MAX_ENTRY_BYTES) });
    expect(fs.statSync(path.join(m.dir, `${id}.json`)).size).toBeLessThan(1024);
    const answer = m.recall(id);
    expect(answer).toMatchObject({ ok: false, error: { code: 'result_not_kept' } });
    expect(answer?.ok === false && answer.error.message).toMatch(/already ran .* too large to keep/);
  });

  it('keeps the newest entries up to the bound', () => {
    const m = memory();
    const now = Date.now();
    const ids = Array.from({ length: MAX_ENTRIES + 5 }, () => randomUUID());
    ids.forEach((id, i) => {
      // Written as finished() writes them, without its fsync (a thousand of those is slow).
      const entry = { commandId: id, action: 'facts.collect', state: 'done', startedAt: '', finishedAt: '', outcome: { ok: true, result: i } };
      fs.writeFileSync(path.join(m.dir, `${id}.json`), JSON.stringify(entry), { mode: 0o600 });
      const t = new Date(now - (ids.length - i) * 1000); // Oldest first, a second apart.
      fs.utimesSync(path.join(m.dir, `${id}.json`), t, t);
    });
    m.prune(now);
    expect(fs.readdirSync(m.dir)).toHaveLength(MAX_ENTRIES);
    for (const id of ids.slice(0, 5)) expect(m.recall(id)).toBeNull();
    expect(m.recall(ids[5]!)).toEqual({ ok: true, result: 5 });
    expect(m.recall(ids.at(-1)!)).toEqual({ ok: true, result: MAX_ENTRIES + 4 });
  });

  it('drops entries older than the age limit and temp files a dead process left', () => {
    const m = memory();
    const now = Date.now();
    const [fresh, old] = [randomUUID(), randomUUID()];
    for (const id of [fresh, old]) m.finished(id, 'hook.run', new Date().toISOString(), { ok: true, result: id });
    const ancient = new Date(now - MAX_AGE_MS - 1000);
    fs.utimesSync(path.join(m.dir, `${old}.json`), ancient, ancient);
    const stale = path.join(m.dir, `${randomUUID()}.json.999.tmp`);
    fs.writeFileSync(stale, '{');
    fs.utimesSync(stale, ancient, ancient);
    m.prune(now);
    expect(fs.readdirSync(m.dir)).toEqual([`${fresh}.json`]);
    expect(m.recall(old)).toBeNull();
  });
});
