// Shared by the pair settings form's sections.
import type { PairSettings } from '@tandem/engine';
import type { FieldMessages } from './validation';

export interface PostgresInstanceOption {
  dataDirectory: string;
  port: number | null;
  version: string | null;
  running: boolean;
}

export interface CredentialOption {
  id: string;
  name: string;
  kind: string;
  scope: string;
}

export type Failover = PairSettings['failover'];
export type Monitor = Failover['monitor'];
export type Connection = PairSettings['connection'];
export type Dns = PairSettings['dns'];

/** The id prefix of every input: "ps-dns-zone". */
export const P = 'ps';

/** What every section gets: the whole settings value, a way to change it, and its field messages. */
export interface SectionProps {
  value: PairSettings;
  onChange: (next: PairSettings) => void;
  /** The message for one field path, e.g. "dns.zone". */
  err: (path: string) => string | undefined;
}

export type { FieldMessages };
