// Cuts loopback traffic for a test with a private nftables table (real kernel filtering; the
// table name is unique to the test process, and removing it restores everything).
import { execFileSync } from 'node:child_process';

export interface Cut {
  restore: () => void;
}

/** Installs `rules` (nft syntax, one per line, in an input chain) until `restore()`. */
export function dropOnLoopback(label: string, rules: string[]): Cut {
  const table = `tandem_${label}_${process.pid}`.replace(/[^A-Za-z0-9_]/g, '_');
  execFileSync('nft', ['-f', '-'], {
    input: `table inet ${table} {\n  chain input {\n    type filter hook input priority 0; policy accept;\n${rules.map((r) => `    ${r}\n`).join('')}  }\n}\n`,
  });
  let active = true;
  return {
    restore: () => {
      if (!active) return;
      active = false;
      execFileSync('nft', ['delete', 'table', 'inet', table]);
    },
  };
}
