import { describe, expect, it } from 'vitest';
import { onlyVanished } from './test-copy.ts';

describe('test.copy-create: cp complaints', () => {
  it('accepts entries that vanished during the copy (replication keeps running), nothing else', () => {
    expect(onlyVanished("cp: cannot stat '/t/srv/a/gone.txt': No such file or directory\n")).toBe(true);
    expect(onlyVanished("cp: cannot open '/t/srv/a/x' for reading: No such file or directory\ncp: cannot stat '/t/y': No such file or directory\n")).toBe(true);
    expect(onlyVanished('')).toBe(false);
    expect(onlyVanished("cp: cannot stat '/t/x': No such file or directory\ncp: error writing '/s/x': No space left on device\n")).toBe(false);
    expect(onlyVanished("cp: cannot open '/t/x' for reading: Permission denied\n")).toBe(false);
  });
});
