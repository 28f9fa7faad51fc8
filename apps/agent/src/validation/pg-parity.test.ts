import { describe, expect, it } from 'vitest';
import { normalizeSetting } from './pg-settings.ts';
import { dbConninfo, maskConninfo, parseControlData } from './postgres.ts';

describe('normalizeSetting', () => {
  const ms = { name: 'statement_timeout', unit: 'ms', vartype: 'integer' };
  const blocks = { name: 'shared_buffers', unit: '8kB', vartype: 'integer' };
  it('compares numbers in the setting’s base unit, whatever unit the value is given in', () => {
    expect(normalizeSetting('45s', ms)).toBe(normalizeSetting('45000', ms));
    expect(normalizeSetting('1min', ms)).toBe('60000');
    expect(normalizeSetting('128MB', blocks)).toBe(normalizeSetting('16384', blocks));
    expect(normalizeSetting('1GB', blocks)).toBe(String(1024 ** 3));
  });
  it('refuses a unit the setting cannot take, or no number at all', () => {
    expect(normalizeSetting('45MB', ms)).toBeNull();
    expect(normalizeSetting('lots', ms)).toBeNull();
    expect(normalizeSetting('5s', { name: 'max_connections', unit: null, vartype: 'integer' })).toBeNull();
  });
  it('reads booleans and enums as PostgreSQL does, time zones without case, other strings exactly', () => {
    expect(normalizeSetting('true', { name: 'ssl', unit: null, vartype: 'bool' })).toBe('on');
    expect(normalizeSetting('No', { name: 'ssl', unit: null, vartype: 'bool' })).toBe('off');
    expect(normalizeSetting('maybe', { name: 'ssl', unit: null, vartype: 'bool' })).toBeNull();
    expect(normalizeSetting('Replica', { name: 'wal_level', unit: null, vartype: 'enum' })).toBe('replica');
    expect(normalizeSetting('europe/paris', { name: 'timezone', unit: null, vartype: 'string' })).toBe(normalizeSetting('Europe/Paris', { name: 'timezone', unit: null, vartype: 'string' }));
    expect(normalizeSetting('Pg_Stat_Statements', { name: 'shared_preload_libraries', unit: null, vartype: 'string' })).toBe('Pg_Stat_Statements');
  });
});

describe('maskConninfo', () => {
  it('hides the password in key/value and URI forms, quoted or not', () => {
    expect(maskConninfo("host=a user=r password=s3cret port=5432")).toBe('host=a user=r password=******** port=5432');
    expect(maskConninfo("host=a password = 'with space\\'q' user=r")).toBe('host=a password = ******** user=r');
    expect(maskConninfo('postgresql://repl:s3cret@db.example:5432/x')).toBe('postgresql://repl:********@db.example:5432/x');
    expect(maskConninfo('host=a user=r')).toBe('host=a user=r');
  });
});

describe('parseControlData and dbConninfo', () => {
  it('reads pg_controldata lines as name → value', () => {
    expect(parseControlData('pg_control version number:            1300\nDatabase system identifier:           7716552502290070218\nLatest checkpoint\'s TimeLineID:       1\n')).toEqual({
      'pg_control version number': '1300',
      'Database system identifier': '7716552502290070218',
      "Latest checkpoint's TimeLineID": '1',
    });
  });
  it('quotes a database name so psql never reads it as a connection string', () => {
    expect(dbConninfo("a=b 'c'\\")).toBe("dbname='a=b \\'c\\'\\\\'");
  });
});
