import { describe, expect, it } from 'vitest';
import { upsertAutoConf } from './datadir.ts';
import { copyOverrides, copyPostgresqlConf, parseCountTable, parseUnaligned } from './test-copy.ts';

describe('PostgreSQL test copy helpers', () => {
  it('parses count-table names and refuses anything that is not a plain name', () => {
    expect(parseCountTable('orders')).toEqual({ database: 'postgres', table: 'orders' });
    expect(parseCountTable('shop:public.orders')).toEqual({ database: 'shop', table: 'public.orders' });
    for (const bad of ['orders; DROP TABLE x', 'a.b.c', '"Orders"', 'db x:orders', ':orders', 'shop:']) expect(parseCountTable(bad)).toBeNull();
  });

  it('splits psql unaligned output with its separators; the null marker becomes null, empty strings stay', () => {
    const fs = '\x1fN\x1f';
    const rs = '\x1eN\x1e';
    const nul = '\x1dN\x1d';
    expect(parseUnaligned(`a${fs}b${rs}1${fs}${nul}${rs}${fs}two\nlines\n`, fs, rs, nul)).toEqual({
      columns: ['a', 'b'],
      rows: [
        ['1', null],
        ['', 'two\nlines'],
      ],
    });
    expect(parseUnaligned('n\n', fs, rs, nul)).toEqual({ columns: ['n'], rows: [] });
  });

  it('keeps a configuration inside the data directory and points data_directory at the copy', () => {
    const standby = { dataDir: '/var/lib/pg/main', configFile: '/var/lib/pg/main/postgresql.conf', hbaFile: '/var/lib/pg/main/pg_hba.conf', identFile: '/var/lib/pg/main/pg_ident.conf' };
    expect(copyPostgresqlConf('port = 5432\nmax_connections = 50', standby, '/s/id/pgdata')).toBe("port = 5432\nmax_connections = 50\ndata_directory = '/s/id/pgdata'\n");
  });

  it('includes an outside configuration (Debian) with its hba and ident files, data_directory last', () => {
    const standby = {
      dataDir: '/var/lib/postgresql/15/main',
      configFile: '/etc/postgresql/15/main/postgresql.conf',
      hbaFile: '/etc/postgresql/15/main/pg_hba.conf',
      identFile: "/etc/postgresql/15/main/pg_ident's.conf",
    };
    const text = copyPostgresqlConf(null, standby, '/s/id/pgdata');
    expect(text.split('\n').slice(1)).toEqual([
      "include '/etc/postgresql/15/main/postgresql.conf'",
      "hba_file = '/etc/postgresql/15/main/pg_hba.conf'",
      "ident_file = '/etc/postgresql/15/main/pg_ident''s.conf'",
      "data_directory = '/s/id/pgdata'",
      '',
    ]);
  });

  it('the overrides replace the standby settings that tie it to production in postgresql.auto.conf', () => {
    const standbyAuto = "# Do not edit\nprimary_conninfo = 'host=10.0.0.1 password=secret'\nprimary_slot_name = 'tandem_to_b'\nhot_standby = 'on'\nport = '5432'\n";
    const out = upsertAutoConf(standbyAuto, copyOverrides(25432, '/s/id/run'));
    expect(out).not.toContain('secret');
    expect(out).toContain("primary_conninfo = ''");
    expect(out).toContain("primary_slot_name = ''");
    expect(out).toContain("archive_mode = 'off'");
    expect(out).toContain("synchronous_standby_names = ''");
    expect(out).toContain("port = '25432'");
    expect(out).toContain("listen_addresses = '127.0.0.1'");
    expect(out).toContain("unix_socket_directories = '/s/id/run'");
    expect(out.match(/^port =/gm)).toHaveLength(1);
  });
});
